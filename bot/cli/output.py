"""What every CLI verb shares: the acting identity, the refusal that exits 1, JSON printing."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

from bot.i18n import CATALOGUES

CLI_ACTOR = "cli:operator"


class Refused(Exception):
    """Exit 1 with this one-line reason."""


def refuse(message: str) -> NoReturn:
    """Stop the verb: exit 1 with `message` on stderr."""
    raise Refused(message)


def print_json(doc: Any) -> None:
    """One JSON document on stdout (DESIGN.md: `--json` prints one document)."""
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def language(configured: str) -> str:
    """The language of the CLI's messages: `PQRBOT_LANG` (es, en) when set, else config.yaml's."""
    chosen = os.environ.get("PQRBOT_LANG", "").strip().lower()
    return chosen if chosen in CATALOGUES else configured
