"""orderdesk's core: everything that is not UI — rules, queries, storage, export, import, CLI.

Nothing in this package imports streamlit; it is importable and testable on its own.
"""
