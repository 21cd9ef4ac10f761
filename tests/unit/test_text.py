"""ui.text.as_text: any value shows as exactly its text in Streamlit's Markdown, never as markup."""
from __future__ import annotations

import pytest

from tests.markdown_text import shown, syntax_left
from ui.text import BREAK, as_text

HOSTILE = [
    # links, images, references, footnotes
    "[Sign in again](https://ev.il/a)",
    "![](https://ev.il/pixel.png)",
    "[x][ref]",
    "[ref]: https://ev.il",
    "[^1]",
    "<https://ev.il>",
    "\\[x](y)",
    # addresses that become links after parsing
    "https://ev.il/a",
    "http://ev.il",
    "www.ev.il",
    "WWW.EV.IL",
    "vera@example.com",
    "first.last+tag@sub.example.co.uk",
    "mailto:a@b.c",
    # emphasis, strikethrough, code, math
    "**x** __y__ *z* _w_",
    "~~gone~~ ~x~",
    "`code` ```js",
    "$x$",
    "$$x^2$$",
    "costs $5 and $10",
    # HTML and entities
    "<img src=x onerror=alert(1)>",
    "<b>bold</b> <!-- c -->",
    "&amp; &lt;script&gt; &#x3C;",
    # Streamlit's directives, icons, logo, emoji, symbols
    ":red[x]",
    ":red-background[x]",
    ":blue-badge[x]",
    ':color[x]{foreground="red"}',
    ":small[x] :help[tip]",
    ":material/home:",
    ":material_home:",
    ":streamlit:",
    ":smile: :+1: :-1:",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    # blocks: headings, lists, quotes, rules, tables, code
    "# heading",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "1) item",
    "> quote",
    "---",
    "===",
    "| a | b |",
    "    indented code",
    # backslashes and line breaks
    "\\",
    "a\\b",
    "\\*x\\*",
    "ends with \\",
    "one\ntwo",
    "one\n\n# heading",
    "one\r\n- item",
    "trailing spaces  \nhard break",
    "tab\tseparated",
    # ordinary text stays as it is
    "Beta Sp. z o.o.",
    "Ünïcödé „cytat” — 12:30",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_value_reads_as_its_text(value):
    assert shown(as_text(value)) == " ".join(value.split())


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_value_leaves_no_markdown_syntax(value):
    assert syntax_left(as_text(value)) == []


def test_break_is_invisible_and_only_where_a_rewrite_could_match():
    assert as_text("Beta Sp z o o") == "Beta Sp z o o"
    assert as_text("a@b") == f"a\\@{BREAK}b"
    assert as_text("http://x") == f"http\\:{BREAK}\\/\\/x"
    assert as_text("www.x") == f"www{BREAK}\\.x"
    assert as_text("->") == f"\\-{BREAK}\\>"


def test_value_of_any_type_is_shown_by_its_str():
    assert shown(as_text(1234)) == "1234"
    assert shown(as_text(None)) == "None"
