"""The es and en catalogues: the same keys, the same placeholders per key, the same plural families."""

from __future__ import annotations

import re
import string

import pytest

from bot.i18n import CATALOGUES, PLURAL_FORMS
from bot.i18n.formats import locale_for

FAKED_PLURAL = re.compile(r"\w\((?:s|es|n|ies|as|os|a|o)\)")


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def split(catalogue: dict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(plain texts, plural families `base -> {form: text}`); a key ending in `.one`, `.other`, …
    belongs to a family."""
    plain: dict[str, str] = {}
    families: dict[str, dict[str, str]] = {}
    for key, text in catalogue.items():
        base, _, form = key.rpartition(".")
        if base and form in PLURAL_FORMS:
            families.setdefault(base, {})[form] = text
        else:
            plain[key] = text
    return plain, families


ES_PLAIN, ES_FAMILIES = split(CATALOGUES["es"])
EN_PLAIN, EN_FAMILIES = split(CATALOGUES["en"])
LANGS = sorted(CATALOGUES)


def test_both_catalogues_have_the_same_keys() -> None:
    assert sorted(set(ES_PLAIN) - set(EN_PLAIN)) == [], "only in es"
    assert sorted(set(EN_PLAIN) - set(ES_PLAIN)) == [], "only in en"


def test_both_catalogues_have_the_same_plural_families() -> None:
    assert ES_FAMILIES, "the plural families were not recognised"
    assert sorted(ES_FAMILIES) == sorted(EN_FAMILIES)


@pytest.mark.parametrize("key", sorted(ES_PLAIN))
def test_each_key_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert placeholders(ES_PLAIN[key]) == placeholders(EN_PLAIN[key])


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_are_named(lang: str) -> None:
    """`t` fills texts with keyword values only: a `{}` would fail at run time."""
    assert [k for k, text in CATALOGUES[lang].items() if "" in placeholders(text)] == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_plural_family_is_not_also_a_plain_key(lang: str) -> None:
    plain, families = split(CATALOGUES[lang])
    assert sorted(set(plain) & set(families)) == []


@pytest.mark.parametrize("base", sorted(ES_FAMILIES))
def test_each_plural_family_has_other_and_only_forms_its_language_uses(base: str) -> None:
    for lang, families in (("es", ES_FAMILIES), ("en", EN_FAMILIES)):
        forms = set(families[base])
        assert "other" in forms, (lang, base)
        assert forms <= set(locale_for(lang).plural_form.tags) | {"other"}, (lang, base)


@pytest.mark.parametrize("base", sorted(ES_FAMILIES))
def test_each_plural_family_has_the_same_placeholders_in_every_form(base: str) -> None:
    """`{count}` is shown in `.other`; another form may spell the number out ("una penalidad"), but
    every other placeholder is in every form of both languages."""
    expected = placeholders(ES_FAMILIES[base]["other"])
    assert "count" in expected
    for lang, families in (("es", ES_FAMILIES), ("en", EN_FAMILIES)):
        for form, text in families[base].items():
            found = placeholders(text)
            if form != "other":
                found |= {"count"}
            assert found == expected, (lang, base, form)


@pytest.mark.parametrize("lang", LANGS)
def test_no_faked_plurals_are_left(lang: str) -> None:
    """A count goes through a plural family (`tn`), not "penalidad(es)"."""
    assert {k: text for k, text in CATALOGUES[lang].items() if FAKED_PLURAL.search(text)} == {}
