"""The catalogues are complete: every message the sources mark (``_``, ``N_``, ``t``,
``ngettext``, ``pgettext``), extracted with Babel's own extractor, is translated in every
language, and each translation has exactly the placeholders of its message."""
from __future__ import annotations

import string
import sys
from pathlib import Path

import pytest

from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, load_catalog, translator

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from catalogs import extract_messages  # noqa: E402

TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]


@pytest.fixture(scope="module")
def messages():
    return extract_messages()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_sources_mark_the_desk_s_messages(messages):
    marked = {message for _, message in messages}
    for expected in ("Orders", "Export to xlsx", "Refund amount", "Goods returned", "Pending",
                     "Order date", "Export info"):
        assert expected in marked
    assert (None, ("{count} refund", "{count} refunds")) in messages
    assert ("history action", "Cancel") in messages


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(messages, lang):
    catalog = load_catalog(lang)
    problems = []
    for (context, message), places in messages.items():
        singular = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(singular, context=context)
        where = f"{places[0][0]}:{places[0][1]}"
        if entry is None:
            problems.append(f"missing: {singular!r} ({where})")
            continue
        forms = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        if isinstance(message, tuple) != isinstance(entry.id, (tuple, list)):
            problems.append(f"plural forms differ: {singular!r} ({where})")
        if entry.fuzzy or not all(forms) or (isinstance(message, tuple)
                                             and len(forms) != catalog.num_plurals):
            problems.append(f"empty or fuzzy: {singular!r} ({where})")
            continue
        wanted = set().union(*map(_placeholders, message if isinstance(message, tuple)
                                  else (message,)))
        for form in forms:
            if _placeholders(form) != wanted:
                problems.append(f"placeholders {sorted(_placeholders(form))} instead of "
                                f"{sorted(wanted)}: {singular!r} → {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_catalogue_holds_no_message_the_sources_lost(messages, lang):
    marked = {(context, message[0] if isinstance(message, tuple) else message)
              for context, message in messages}
    stale = [entry.id for entry in load_catalog(lang)
             if entry.id and (entry.context, entry.id if isinstance(entry.id, str)
                              else entry.id[0]) not in marked]
    assert not stale, f"run scripts/catalogs.py: {stale}"


def test_english_is_the_message_itself_and_plurals_follow_each_language():
    assert translator("en")("Orders") == "Orders"
    assert translator(None)("Anything at all") == "Anything at all"
    refunds = {lang: [translator(lang).ngettext("{count} refund", "{count} refunds", n)
                      .format(count=n) for n in (1, 2, 5, 22)] for lang in LANGUAGES}
    assert refunds == {
        "en": ["1 refund", "2 refunds", "5 refunds", "22 refunds"],
        "pl": ["1 zwrot", "2 zwroty", "5 zwrotów", "22 zwroty"],
        "ro": ["1 rambursare", "2 rambursări", "5 rambursări", "22 de rambursări"],
        "ru": ["1 возврат", "2 возврата", "5 возвратов", "22 возврата"],
    }
    assert translator("pl")("a message no catalogue has") == "a message no catalogue has"
