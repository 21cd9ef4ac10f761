"""Values from outside the app — a URL, an imported file, the database, the users file — put
into Streamlit's Markdown so that they show as exactly their text, never as markup.

Streamlit renders Markdown in ``st.markdown``, captions, alerts, headings, toasts, widget labels,
help tooltips and metric labels. A value written there as is can become a link, an image,
emphasis, a heading, a list, a colour, an icon, a formula or an HTML tag: a URL parameter like
``?le=[Sign in again](https://…)`` would draw a working link inside the app's own warning.
``as_text`` is how every page writes such a value (or a message that quotes one) into Markdown.
Plain-text places — table cells, selectbox and multiselect options, input values and
placeholders, chart labels — show characters as they are and take the value unchanged.
"""
from __future__ import annotations

import re
import string

# An empty inline element (Streamlit's ``:small[]`` directive, drawn as an empty <span>). Some of
# Streamlit's rewrites run on the parsed text, after every backslash escape is resolved: web and
# e-mail addresses become links, ``:material_name:`` an icon, ``:streamlit:`` a logo, ``:name:``
# an emoji, `` -> `` an arrow. Placed inside such a pattern, it splits the text in two pieces
# that neither rewrite matches, and adds nothing that is seen, read aloud or copied.
BREAK = ":small[]"

# CommonMark lets a backslash escape every ASCII punctuation character, and only those; escaping
# all of them leaves no character that could open a link, image, emphasis, code, math, HTML,
# directive, list, heading, quote, table or entity.
_PUNCTUATION = frozenset(string.punctuation)
# Runs of white space, line breaks included, become one space: a value never starts a new block
# (a heading, a list, an indented code block) on a line of its own.
_WHITE_SPACE = re.compile(r"[ \t\n\r\f\v\x85\u2028\u2029]+")
# Where a break goes: after the character at which one of those rewrites could continue.
_PAIRS = frozenset({"<-", "->", "--", ">=", "<=", "~="})


def as_text(value: object) -> str:
    """``value`` as Markdown that Streamlit shows as exactly its text, on one line."""
    text = _WHITE_SPACE.sub(" ", str(value)).strip()
    pieces = []
    for index, char in enumerate(text):
        pieces.append("\\" + char if char in _PUNCTUATION else char)
        if _breaks_after(text, index):
            pieces.append(BREAK)
    return "".join(pieces)


def _breaks_after(text: str, index: int) -> bool:
    char = text[index]
    if char in ":@":  # "https://", ":name:" shortcodes and icons; "name@domain" addresses
        return True
    if text[index:index + 2] in _PAIRS:  # arrows and dashes drawn in place of "->", "--", ...
        return True
    return text[index + 1:index + 2] == "." and text[max(0, index - 2):index + 1].lower() == "www"
