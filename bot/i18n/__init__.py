"""User-facing texts: one catalogue per language (es is the default, en is shipped too)."""

from __future__ import annotations

from typing import Any

from bot.i18n import en, es

CATALOGUES: dict[str, dict[str, str]] = {"es": es.MESSAGES, "en": en.MESSAGES}


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang` (Spanish when the language is not shipped), with `values` filled in."""
    catalogue = CATALOGUES.get(lang, es.MESSAGES)
    template = catalogue.get(key) or es.MESSAGES[key]
    return template.format(**values) if values else template


def language_of(code: str | None, default: str = "es") -> str:
    """The shipped language for a platform language code such as `en-US` or `es-CO`."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in CATALOGUES:
            return base
    return default
