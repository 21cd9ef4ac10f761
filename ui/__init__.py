"""Shared Streamlit pieces for the pages: the session's user and store, the filter sidebar."""
