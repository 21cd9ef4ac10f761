"""The gettext catalogues of the desk: extract every message the sources mark, and bring each
language's ``locale/<lang>/LC_MESSAGES/orderdesk.po`` up to date with them.

    python scripts/catalogs.py          # add new messages (empty) to every catalogue, drop gone ones
    python scripts/catalogs.py --check  # list what is missing or empty; exit 1 if anything is

Messages are marked with ``_("…")`` (ui, screens), ``N_("…")`` (core: kept in English, translated
where shown), ``t("…")`` (a ``core.i18n.translator`` passed in) and ``ngettext`` for plurals
(``N_plural`` in core: a plural message kept in English, translated where shown).
The unit test ``tests/unit/test_catalogs.py`` fails on what ``--check`` lists.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, catalog_path  # noqa: E402

SOURCES = ("app.py", "core", "ui", "screens")
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None, "N_plural": (1, 2)}


def source_files() -> list[Path]:
    files = []
    for name in SOURCES:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def extract_messages() -> dict[tuple[str | None, str | tuple[str, str]], list[tuple[str, int]]]:
    """Every marked message, (its context or None, a text or a (singular, plural) pair) →
    where it is marked."""
    found: dict = {}
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, message, _comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, strip_comment_tags=True):
            if isinstance(message, (tuple, list)):
                message = tuple(m for m in message if m)
                message = message[0] if len(message) == 1 else message[:2]
            if message:
                found.setdefault((context, message), []).append((relative, line))
    return found


def template() -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="orderdesk", charset="utf-8")
    for (context, message), places in extract_messages().items():
        catalog.add(message, locations=places, context=context)
    return catalog


def update() -> None:
    new = template()
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        path = catalog_path(lang)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, domain=DOMAIN, project="orderdesk", charset="utf-8")
        catalog.update(new, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=False)


if __name__ == "__main__":
    update()
