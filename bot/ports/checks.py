"""What a `pqrbot doctor` check answers: channels' checks (relay EHLO, Slack auth.test, Telegram
getMe) return it without printing, so the CLI writes every line in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One line of the report: `key` is a `doctor.*` catalogue text filled with `values`. A
    failing finding's text says what is wrong and what to do about it."""

    ok: bool
    key: str
    values: Mapping[str, object] = field(default_factory=dict)
