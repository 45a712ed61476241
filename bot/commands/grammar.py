"""The `/pqr` command grammar shared by every chat (Slack, console, …).

`parse()` turns what a staff member typed into a `ParsedCommand`: a canonical English verb (Spanish
aliases accepted, case- and accent-insensitive), positional arguments (quotes removed, Slack
mentions normalized to `slack:U…`), and an optional reason after a standalone `--` token.
Nothing here knows what a verb means; the command layer above decides that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["VERBS", "CANONICAL_VERBS", "GrammarError", "ParsedCommand", "fold", "parse"]

CANONICAL_VERBS: tuple[str, ...] = (
    "help", "new", "list", "show", "assign", "take", "reply", "note",
    "status", "close", "reopen", "due", "penalty", "contract", "stats", "cause", "kpis", "web",
    "templates", "approve", "return",
)

_ALIASES: dict[str, tuple[str, ...]] = {
    "help": ("ayuda",),
    "new": ("nueva", "nuevo", "radicar"),
    "list": ("listar", "lista"),
    "show": ("ver", "mostrar"),
    "assign": ("asignar",),
    "take": ("tomar",),
    "reply": ("responder",),
    "note": ("nota",),
    "status": ("estado",),
    "close": ("cerrar",),
    "reopen": ("reabrir",),
    "due": ("plazo", "prorroga", "prórroga"),
    "penalty": ("multa", "penalidad"),
    "contract": ("contrato",),
    "stats": ("estadisticas", "estadísticas"),
    "cause": ("causa",),
    "kpis": ("indicadores",),
    "templates": ("plantillas",),
    "approve": ("aprobar",),
    "return": ("devolver",),
}

#: alias -> canonical verb (canonical verbs map to themselves). Lookups go through `_fold()`, so
#: case and accents do not matter; accented spellings are listed too for documentation.
VERBS: dict[str, str] = {verb: verb for verb in CANONICAL_VERBS} | {
    alias: verb for verb, aliases in _ALIASES.items() for alias in aliases
}

# `--` splits off the reason; a lone em dash counts too, because macOS and Slack turn a typed `--`
# into `—`.
_SEPARATORS = ("--", "—")
# An option's name follows two hyphens, or the em dash they become (`--area`, `—area`).
_OPTION_MARKS = ("--", "—")
_PREFIX = "/pqr"

# Opening quote -> the characters that close it.
_QUOTES: dict[str, str] = {
    '"': '"',
    "'": "'’",
    "“": "”“",
    "”": "”",
    "‘": "’‘",
    "«": "»",
    "„": "“”",
}
# Single-quote kinds double as apostrophes: they close a group only when not followed by a letter
# or digit ('it's done' is one token "it's done").
_APOSTROPHES = frozenset("'’‘")

_ANGLE_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_MENTION = re.compile(r"@([UW][A-Z0-9]+)")


def _fold(word: str) -> str:
    """Case- and accent-insensitive key: 'Estadísticas' -> 'estadisticas'."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


fold = _fold   # for words the command layer matches the same way (cause keys and labels)
_FOLDED_VERBS: dict[str, str] = {_fold(alias): verb for alias, verb in VERBS.items()}


class GrammarError(Exception):
    """The text cannot be read as a command.

    `code` is one of "empty" (no verb, e.g. only a `-- reason`), "unknown_verb" or
    "unbalanced_quotes"; `detail` is the offending word or fragment.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class _Token:
    value: str  # quotes removed, mention normalized
    start: int  # span in the raw text
    end: int
    quoted: bool  # the whole token was exactly one quoted group


@dataclass(frozen=True)
class ParsedCommand:
    """A command as typed: canonical verb, positional args, optional `--` reason, raw text."""

    verb: str
    args: tuple[str, ...]
    reason: str | None
    raw: str
    # Where each arg sits in `raw`, and where the free-text part ends (the `--` or the end).
    _spans: tuple[tuple[int, int, bool], ...] = ()
    _body_end: int = 0

    def arg(self, i: int) -> str | None:
        """The i-th positional argument (0-based, after the verb), or None if there is none."""
        if 0 <= i < len(self.args):
            return self.args[i]
        return None

    def rest(self, n: int, *, to_end: bool = False) -> str:
        """The raw text after the first `n` args, up to the `--` separator, stripped.

        Inner spacing and punctuation are kept exactly as typed (mentions are not normalized
        here); if the rest is a single quoted string, the quotes are removed. With `to_end`, the
        text runs to the end of the line, `--` and reason included (free text such as a reply).
        """
        if to_end and n >= 0:
            if n < len(self.args):
                start = self._spans[n - 1][1] if n > 0 else self._spans[0][0]
            elif n == len(self.args) and self.reason is not None:
                start = self._spans[n - 1][1] if n > 0 else 0
            else:
                return ""
            if self.reason is None and n == len(self._spans) - 1 and self._spans[n][2]:
                return self.args[n]
            return self.raw[start:].strip()
        if n < 0 or n >= len(self.args):
            return ""
        start = self._spans[n - 1][1] if n > 0 else self._spans[0][0]
        if n == len(self._spans) - 1 and self._spans[n][2]:
            return self.args[n]
        return self.raw[start:self._body_end].strip()

    def option(self, name: str) -> tuple[tuple[str, ...], str | None]:
        """Split a trailing `--name VALUE` off the args: (the args before it, VALUE).

        VALUE is the text after the option up to the `--` separator, as typed (several words need
        no quotes; a single quoted token loses its quotes). `--name=VALUE` works too, and so does
        an em dash for the two hyphens; the name is case- and accent-insensitive. (args, None) when
        the option is absent; VALUE is "" when nothing follows it.
        """
        for i, value in enumerate(self.args):
            start, end, quoted = self._spans[i]
            head, eq, _ = value.partition("=")
            mark = next((m for m in _OPTION_MARKS if head.startswith(m)), None)
            if quoted or mark is None or _fold(head[len(mark):]) != _fold(name):
                continue
            after = self.raw.index("=", start, end) + 1 if eq else end
            return self.args[:i], _unquote_rest(self.raw, after, self._body_end)
        return self.args, None


def _is_space(ch: str) -> bool:
    return ch.isspace()


def _scan_token(text: str, i: int) -> tuple[_Token, int]:
    """Read one token starting at `text[i]` (not whitespace); return it and the index after it."""
    n = len(text)
    start = i
    if text.startswith("<@", i):
        m = _ANGLE_MENTION.match(text, i)
        if m and (m.end() == n or _is_space(text[m.end()])):
            return _Token(f"slack:{m.group(1)}", start, m.end(), False), m.end()
    parts: list[str] = []
    quoted_groups = 0
    plain_chars = 0
    group_end = start  # a quote opens a group only at the token start or right after a group
    while i < n and not _is_space(text[i]):
        ch = text[i]
        if ch in _QUOTES and i == group_end:
            closers = _QUOTES[ch]
            j = i + 1
            while j < n:
                if text[j] in closers and not (
                    text[j] in _APOSTROPHES and j + 1 < n and text[j + 1].isalnum()
                ):
                    break
                j += 1
            if j >= n:
                raise GrammarError("unbalanced_quotes", text[i:])
            parts.append(text[i + 1:j])
            quoted_groups += 1
            i = group_end = j + 1
            continue
        parts.append(ch)
        plain_chars += 1
        i += 1
    value = "".join(parts)
    quoted = quoted_groups == 1 and plain_chars == 0
    if not quoted_groups:
        m = _BARE_MENTION.fullmatch(value)
        if m:
            value = f"slack:{m.group(1)}"
    return _Token(value, start, i, quoted), i


def _unquote_rest(text: str, start: int, end: int) -> str:
    """`text[start:end]` stripped, without its quotes when it is exactly one quoted token."""
    chunk = text[start:end].strip()
    if not chunk:
        return ""
    offset = text.index(chunk, start)
    try:
        token, after = _scan_token(text[:offset + len(chunk)], offset)
    except GrammarError:
        return chunk
    if token.quoted and after == offset + len(chunk):
        return token.value
    return chunk


def parse(text: str) -> ParsedCommand:
    """Read a `/pqr` command, with or without the leading `/pqr`.

    Empty text (or only `/pqr`) is the `help` verb. Raises `GrammarError` for an unknown verb,
    unbalanced quotes, or a reason with no verb before it.
    """
    raw = text
    tokens: list[_Token] = []
    reason: str | None = None
    body_end = len(text)
    i, n = 0, len(text)
    while True:
        while i < n and _is_space(text[i]):
            i += 1
        if i >= n:
            break
        token, after = _scan_token(text, i)
        if token.value in _SEPARATORS and not token.quoted and after - i == len(token.value):
            body_end = i
            reason = _unquote_rest(text, after, n)
            break
        tokens.append(token)
        i = after

    if tokens and not tokens[0].quoted and tokens[0].value.casefold() == _PREFIX:
        tokens.pop(0)
    if not tokens:
        if reason is not None:
            raise GrammarError("empty", "")
        return ParsedCommand("help", (), None, raw, (), body_end)
    word = tokens[0].value
    if not word:
        raise GrammarError("empty", "")
    verb = _FOLDED_VERBS.get(_fold(word))
    if verb is None:
        raise GrammarError("unknown_verb", word)
    args = tokens[1:]
    return ParsedCommand(
        verb=verb,
        args=tuple(t.value for t in args),
        reason=reason,
        raw=raw,
        _spans=tuple((t.start, t.end, t.quoted) for t in args),
        _body_end=body_end,
    )
