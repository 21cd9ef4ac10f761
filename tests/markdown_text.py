"""What a reader sees of Markdown that ``ui.text.as_text`` wrote, for the tests of every page.

A page test sees the Markdown source Streamlit is sent; these helpers read it as the browser
would show it (``shown``) and find anything in it that the renderer would take as syntax
(``syntax_left``). The renderer's after-parse rewrites are copied from Streamlit 1.67's
Markdown component: each is a regular expression run on the parsed text of one piece.
"""
from __future__ import annotations

import re
import string

from ui.text import BREAK

_PUNCTUATION = re.escape(string.punctuation)
_ESCAPED = re.compile(rf"\\([{_PUNCTUATION}])")
# Streamlit's rewrites of parsed text (autolinks, icons, logo, emoji, typographic symbols).
AFTER_PARSE = {
    "web address link": re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I),
    "e-mail link": re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    "material icon": re.compile(r":material_(\w+):"),
    "Streamlit logo": re.compile(r":streamlit:"),
    "emoji": re.compile(r":\+1:|:-1:|:[\w-]+:"),
    "symbol": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}


def shown(markdown: str) -> str:
    """The text a reader sees: breaks dropped, backslash escapes resolved."""
    return _ESCAPED.sub(r"\1", markdown.replace(BREAK, ""))


def syntax_left(markdown: str) -> list[str]:
    """What in ``markdown`` would still render as more than text: unescaped ASCII punctuation
    (which could open a link, image, emphasis, tag, …) and after-parse rewrites that match."""
    found = []
    for piece in markdown.split(BREAK):
        bare = _ESCAPED.sub("", piece)
        found += [f"unescaped {char!r}" for char in bare if char in string.punctuation]
        text = _ESCAPED.sub(r"\1", piece)
        found += [name for name, pattern in AFTER_PARSE.items() if pattern.search(text)]
    if "\n" in markdown or "\r" in markdown:
        found.append("line break")
    return found


def markup_in(markdown: str) -> list[str]:
    """What in a whole element's Markdown (the page's own words and the values it quotes) would
    render as a link, an image, an HTML tag, an icon or the logo."""
    bare = _ESCAPED.sub("", markdown)
    found = [syntax for syntax in ("](", "![", "<") if syntax in bare]
    for piece in markdown.split(BREAK):
        text = _ESCAPED.sub(r"\1", piece)
        found += [name for name in ("web address link", "e-mail link", "material icon",
                                    "Streamlit logo") if AFTER_PARSE[name].search(text)]
    return found
