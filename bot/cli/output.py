"""What every CLI verb shares: the acting identity, the refusal that exits 1, JSON printing, the
argument parser that answers a usage error in one line, the argument types that refuse what
storage or the date arithmetic could not take, and the log of the verbs other than `run`."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from bot.i18n import CATALOGUES, t
from bot.process.logs import LOG_FILE
from domain.customer import email_address
from domain.errors import InvalidInput
from domain.limits import FIRST_INSTANT, LAST_INSTANT, in_range, shown

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


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error answered in one line (exit 2): what was wrong, in the CLI's
    language where the message is ours, and where the usage is — not the usage block."""

    def __init__(self, *args: Any, lang: str = "es", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", functools.partial(Parser, lang=self.lang))
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: {line} ({t(self.lang, 'cli.usage_hint', prog=self.prog)})\n")


def instant_arg(lang: str) -> Callable[[str], dt.datetime]:
    """An argparse type: an ISO 8601 instant with an offset, between FIRST_INSTANT and LAST_INSTANT
    (further out, a due date or a digest window would overflow the date arithmetic)."""

    def instant(text: str) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(t(lang, "cli.bad_instant", value=shown(text))) from None
        if value.utcoffset() is None:
            raise argparse.ArgumentTypeError(t(lang, "cli.instant_offset", value=shown(text)))
        if not in_range(value):
            raise argparse.ArgumentTypeError(t(lang, "cli.instant_range", value=shown(text),
                                               first=FIRST_INSTANT.isoformat(), last=LAST_INSTANT.isoformat()))
        return value

    return instant


def integer_arg(lang: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (the column's range: a bigger one
    would overflow the driver)."""

    def integer(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(t(lang, "cli.bad_integer", value=shown(text[:40]), low=low, high=high))
        return value

    return integer


def email_arg(lang: str) -> Callable[[str], str]:
    """An argparse type: one plain email address (`domain.customer.email_address`)."""

    def email(text: str) -> str:
        try:
            return email_address(text)
        except InvalidInput as exc:
            raise argparse.ArgumentTypeError(t(lang, "input.email", value=exc.value)) from None

    return email


def not_utf8(argv: list[str]) -> tuple[int, str] | None:
    """(position, the argument shown with escapes) of the first argument that is not valid UTF-8
    (Python hands such bytes over as lone surrogates, which storage and printing would fail on)."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return position, shown(arg[:60])
    return None


class _QuietFileHandler(logging.FileHandler):
    """A log file opened on the first record; when it cannot be written, records are dropped
    (`failed` says so) instead of logging's own traceback on stderr."""

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        try:
            super().emit(record)     # opens the file on the first record
        except OSError:
            self.failed = True

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True


def cli_log(data_dir: Path) -> None:
    """Where the verbs other than `run` (which sets up its own log) log: warnings and errors, with
    their tracebacks, to `pqrbot.log` in the data folder — never to the terminal, which gets one
    line. Nothing is created until something is logged."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = _QuietFileHandler(data_dir / LOG_FILE, delay=True, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def log_location() -> str | None:
    """The log file the root logger writes to (the first), "stderr" when it writes to a stream,
    None when nothing could be written."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _QuietFileHandler) and handler.failed:
            return None
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return "stderr"
