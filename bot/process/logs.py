"""Where `pqrbot run`'s log goes.

While the console channel runs on a terminal, the terminal is for the console: the log goes to
`pqrbot.log` in the data folder (rotating), and only warnings and errors reach stderr, each
distinct warning (same logger, same message template) at most once a minute. Without a terminal
(a service, CI, a pipe) or with `PQRBOT_LOG=stderr`, the whole log goes to stderr, as a service
manager expects. `PQRBOT_LOG=file` asks for the file in any case. `PQRBOT_LOG_FORMAT=json` writes
the log as one JSON object per line (time, level, logger, message, exception)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LOG_FILE = "pqrbot.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Libraries that log every request or command at INFO: their warnings only, unless DEBUG is asked for.
# alembic.runtime.plugins: one INFO line per autogenerate plugin when Alembic is first imported,
# which is now after logging is set up (only a database below head loads it).
CHATTY = ("mail.log", "httpx", "httpcore", "alembic.runtime.plugins")


class LogSettingsError(ValueError):
    """PQRBOT_LOG or PQRBOT_LOG_FORMAT has a value we do not know; the message lists the good ones."""


@dataclass(frozen=True)
class LogSetup:
    """What `configure` did: `file` is the log file when the log goes to one (else stderr)."""

    file: Path | None


class RateLimit(logging.Filter):
    """Lets the same record (logger name + message template) through at most once every `interval`
    seconds of `clock`. A record that gets through carries `suppressed`: how many like it were held
    back since the last one shown."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 1000) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self.max_keys = max_keys
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}   # key -> (shown at, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.interval:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        setattr(record, "suppressed", seen[1] if seen is not None else 0)
        self._seen[key] = (now, 0)
        if len(self._seen) > self.max_keys:   # messages formatted before logging make new keys
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.interval or v[1]}
        return True


class TerminalFormatter(logging.Formatter):
    """One short line per record for a person at the terminal: the time, the level, the message,
    how many like it were held back, and where the traceback went (it is not printed here)."""

    def __init__(self, log_file: Path) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        held_back = getattr(record, "suppressed", 0)
        if held_back:
            line += f" [{held_back} more like this in the last minute]"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" ({record.exc_info[0].__name__}; the traceback is in {self.log_file})"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 with offset), level, logger, message, and
    `exception` (the traceback text) when the record has one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        held_back = getattr(record, "suppressed", 0)
        if held_back:
            entry["suppressed"] = held_back
        return json.dumps(entry, ensure_ascii=False, default=str)


def destination(*, console_on_tty: bool, env: Mapping[str, str]) -> str:
    """'file' or 'stderr': PQRBOT_LOG (auto, file, stderr); auto is the file while the console
    runs on a terminal."""
    choice = env.get("PQRBOT_LOG", "").strip().lower() or "auto"
    if choice not in ("auto", "file", "stderr"):
        raise LogSettingsError(f"PQRBOT_LOG={choice}: use auto, file or stderr")
    if choice == "auto":
        return "file" if console_on_tty else "stderr"
    return choice


def log_formatter(env: Mapping[str, str]) -> logging.Formatter:
    """The log's format from PQRBOT_LOG_FORMAT (text, json)."""
    choice = env.get("PQRBOT_LOG_FORMAT", "").strip().lower() or "text"
    if choice not in ("text", "json"):
        raise LogSettingsError(f"PQRBOT_LOG_FORMAT={choice}: use text or json")
    return JsonFormatter() if choice == "json" else logging.Formatter(TEXT_FORMAT)


def configure(*, data_dir: Path, console_on_tty: bool, level: str = "INFO",
              env: Mapping[str, str] | None = None, stderr: TextIO | None = None,
              clock: Callable[[], float] = time.monotonic) -> LogSetup:
    """Set up the root logger for `pqrbot run` (replacing handlers set before). Raises
    LogSettingsError for a bad PQRBOT_LOG / PQRBOT_LOG_FORMAT and OSError when the log file cannot
    be opened."""
    env = os.environ if env is None else env
    stream = stderr or sys.stderr
    where = destination(console_on_tty=console_on_tty, env=env)
    formatter = log_formatter(env)
    levelno = logging.getLevelName(level.upper())
    if not isinstance(levelno, int):
        raise LogSettingsError(f"log level {level}: use one of {', '.join(LEVELS)}")

    handlers: list[logging.Handler] = []
    log_file: Path | None = None
    if where == "file":
        log_file = data_dir / LOG_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
        to_file.setFormatter(formatter)
        terminal = logging.StreamHandler(stream)
        terminal.setLevel(max(logging.WARNING, levelno))
        terminal.addFilter(RateLimit(clock=clock))
        terminal.setFormatter(TerminalFormatter(log_file))
        handlers = [to_file, terminal]
    else:
        to_stderr = logging.StreamHandler(stream)
        to_stderr.setFormatter(formatter)
        handlers = [to_stderr]

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.setLevel(levelno)
    for handler in handlers:
        root.addHandler(handler)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if levelno <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)
    return LogSetup(file=log_file)
