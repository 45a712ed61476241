"""Answer templates: what a template is and the rules for filling it (no files, no catalogue text).

A template's body names placeholders in braces, `{nombre}`; `{{` and `}}` write a brace. Filling
replaces every placeholder in one pass over the template, so a value (a customer's name that
contains `{radicado}`) is inserted as it is and never read as a placeholder itself.

Names that start with `_` are reserved for the automatic texts a deployment may override
(`Reserved`); each accepts the common placeholders plus its own (`{motivo}`, `{respuesta}`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

PLACEHOLDERS: tuple[str, ...] = ("nombre", "radicado", "fecha_radicacion", "fecha_vencimiento", "tipo", "agente")
LANGUAGES: tuple[str, ...] = ("es", "en")
NAME = re.compile(r"_?[a-z0-9][a-z0-9_-]{0,59}")


class Reserved(StrEnum):
    """The automatic texts a file of the templates folder may replace."""

    ACKNOWLEDGMENT = "_acuse"     # sent when a PQR is filed
    EXTENSION = "_prorroga"       # sent when the due date is extended
    CLOSING = "_cierre"           # wraps the final answer


EXTRA_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    Reserved.ACKNOWLEDGMENT: (), Reserved.EXTENSION: ("motivo",), Reserved.CLOSING: ("respuesta",)}
REQUIRED_PLACEHOLDERS: dict[str, str] = {Reserved.CLOSING: "respuesta"}
# An answer template may say where the extra text typed after `@name` goes; without it, the text
# is appended after the template.
EXTRA_TEXT = "texto"

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class TemplateProblem(Exception):
    """Why a template cannot be used: `code` is `unknown_placeholder`, `unbalanced_brace` or
    `missing_language`; `detail` names the placeholder, brace or language."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class AnswerTemplate:
    """One template: `titles` and `bodies` by language, `types` the PQR type keys it fits (None:
    every type)."""

    name: str
    titles: Mapping[str, str]
    bodies: Mapping[str, str]
    types: frozenset[str] | None = None

    @property
    def reserved(self) -> bool:
        return self.name.startswith("_")

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("es") or next(iter(self.titles.values()), self.name)

    def fits(self, pqr_type: str) -> bool:
        return self.types is None or pqr_type in self.types

    def accepted(self) -> tuple[str, ...]:
        """The placeholders this template may name."""
        if not self.reserved:
            return PLACEHOLDERS + (EXTRA_TEXT,)
        return PLACEHOLDERS + EXTRA_PLACEHOLDERS.get(self.name, ())

    def answer(self, lang: str, values: Mapping[str, str], extra: str = "") -> str:
        """An answer: the body in `lang` filled, with `extra` at `{texto}` or appended after it."""
        body = self.bodies.get(lang) or ""
        if EXTRA_TEXT in placeholders(body):
            text = self.fill(lang, {**values, EXTRA_TEXT: extra})
        else:
            text = self.fill(lang, values).rstrip() + (f"\n\n{extra}" if extra else "")
        return _BLANK_LINES.sub("\n\n", text).strip()

    def problems(self, known_types: Iterable[str]) -> list[TemplateProblem]:
        """What is wrong with the template as written (empty when it can be used everywhere)."""
        found: list[TemplateProblem] = []
        found += [TemplateProblem("missing_language", lang) for lang in LANGUAGES
                  if not (self.bodies.get(lang) or "").strip()]
        known = set(known_types)
        found += [TemplateProblem("unknown_type", typ) for typ in sorted(self.types or ()) if typ not in known]
        for lang in LANGUAGES:
            try:
                unknown = [p for p in placeholders(self.bodies.get(lang) or "") if p not in self.accepted()]
            except TemplateProblem as exc:
                found.append(TemplateProblem(exc.code, f"{lang}: {exc.detail}"))
                continue
            found += [TemplateProblem("unknown_placeholder", f"{lang}: {{{p}}}") for p in unknown]
            required = REQUIRED_PLACEHOLDERS.get(self.name)
            if required and (self.bodies.get(lang) or "").strip() and required not in placeholders(
                    self.bodies.get(lang) or ""):
                found.append(TemplateProblem("missing_placeholder", f"{lang}: {{{required}}}"))
        return found

    def fill(self, lang: str, values: Mapping[str, str]) -> str:
        """The body in `lang` with `values` in place. Raises `TemplateProblem` when the language is
        missing or the body names a placeholder this template does not accept."""
        body = self.bodies.get(lang) or ""
        if not body.strip():
            raise TemplateProblem("missing_language", lang)
        used = placeholders(body)
        unknown = [p for p in used if p not in self.accepted()]
        if unknown:
            raise TemplateProblem("unknown_placeholder", "{" + unknown[0] + "}")
        required = REQUIRED_PLACEHOLDERS.get(self.name)
        if required and required not in used:       # the closing wrapper would drop the answer
            raise TemplateProblem("missing_placeholder", "{" + required + "}")
        return fill(body, values)


def placeholders(text: str) -> list[str]:
    """The placeholder names `text` uses, in order, once each. Raises `TemplateProblem`
    (`unbalanced_brace`) for a lone `{` or `}`."""
    names: list[str] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            raise TemplateProblem("unbalanced_brace", _around(text, m.start()))
        name = (m.group(1) or "").strip()
        if name not in names:
            names.append(name)
    return names


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{name}` replaced by `values[name]` (an unknown name stays as written),
    in one pass: what a value contains is never read as a placeholder."""
    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = (m.group(1) or "").strip()
        return values[name] if m.group(1) is not None and name in values else token

    return _TOKEN.sub(one, text)


def _around(text: str, at: int) -> str:
    return text[max(0, at - 15):at + 15].replace("\n", " ")
