"""User-facing texts: one catalogue per language (es is the default, en is shipped too).

A text that depends on a number is a plural family: `key.one`, `key.other` (and `key.many`, … where
a language needs it), chosen by `tn` with CLDR's plural rules; `.other` is always present and is
the fallback. Numbers and dates are written by `bot.i18n.formats`."""

from __future__ import annotations

from typing import Any

from bot.i18n import en, es
from bot.i18n.formats import plural_category

CATALOGUES: dict[str, dict[str, str]] = {"es": es.MESSAGES, "en": en.MESSAGES}


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang` (Spanish when the language is not shipped), with `values` filled in."""
    catalogue = CATALOGUES.get(lang, es.MESSAGES)
    template = catalogue.get(key) or es.MESSAGES[key]
    return template.format(**values) if values else template


PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")


def tn(lang: str, key: str, count: int, **values: Any) -> str:
    """The plural family `key` in `lang` for `count`: `key.<category>` by the language's plural
    rules (`key.one` for 1, …), else `key.other`; `{count}` and `values` are filled in."""
    lang = lang if lang in CATALOGUES else "es"
    form = f"{key}.{plural_category(lang, count)}"
    if form not in CATALOGUES[lang]:
        form = f"{key}.other"
    return t(lang, form, count=count, **values)


def language_of(code: str | None, default: str = "es") -> str:
    """The shipped language for a platform language code such as `en-US` or `es-CO`."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in CATALOGUES:
            return base
    return default
