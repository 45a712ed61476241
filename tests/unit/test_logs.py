"""bot.process.logs without I/O: the once-a-minute filter (its clock given), the terminal and JSON
formatters, and where the log goes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from bot.process.logs import JsonFormatter, LogSettingsError, RateLimit, TerminalFormatter, destination, log_formatter


def record(msg: str, *args: object, name: str = "bot.outbox.worker", level: int = logging.WARNING,
           exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_same_warning_is_shown_once_a_minute_and_then_says_how_many_were_held_back() -> None:
    clock = Clock()
    limit = RateLimit(interval=60, clock=clock)
    first = record("outbox %s failed (%s)", 1, "relay down")
    assert limit.filter(first) and first.suppressed == 0  # type: ignore[attr-defined]
    clock.now += 10
    assert not limit.filter(record("outbox %s failed (%s)", 2, "relay down"))   # same template, new values
    clock.now += 49.9
    assert not limit.filter(record("outbox %s failed (%s)", 3, "relay down"))
    clock.now += 0.1                                                           # a minute after the first
    again = record("outbox %s failed (%s)", 4, "relay down")
    assert limit.filter(again) and again.suppressed == 2  # type: ignore[attr-defined]
    assert TerminalFormatter(Path("data/pqrbot.log")).format(again).endswith(
        "outbox 4 failed (relay down) [2 more like this in the last minute]")
    clock.now += 61
    quiet = record("outbox %s failed (%s)", 5, "relay down")
    assert limit.filter(quiet) and quiet.suppressed == 0  # type: ignore[attr-defined]


def test_other_templates_and_other_loggers_are_not_held_back() -> None:
    limit = RateLimit(interval=60, clock=Clock())
    assert limit.filter(record("outbox %s failed", 1))
    assert limit.filter(record("channel %s is down", "email"))
    assert limit.filter(record("outbox %s failed", 1, name="channels.email.adapter"))
    assert not limit.filter(record("outbox %s failed", 2))


def test_the_filter_forgets_old_keys_past_its_size() -> None:
    clock = Clock()
    limit = RateLimit(interval=60, clock=clock, max_keys=10)
    for n in range(10):
        assert limit.filter(record(f"formatted before logging {n}"))
    clock.now += 120
    assert limit.filter(record("one more"))
    assert len(limit._seen) == 1


def test_the_terminal_line_names_the_exception_and_leaves_the_traceback_to_the_file() -> None:
    try:
        raise ConnectionRefusedError("no relay")
    except ConnectionRefusedError:
        rec = record("email: send failed", exc_info=sys.exc_info(), level=logging.ERROR)
    line = TerminalFormatter(Path("data/pqrbot.log")).format(rec)
    assert "\n" not in line and "Traceback" not in line
    assert line.endswith("ERROR bot.outbox.worker: email: send failed "
                         "(ConnectionRefusedError; the traceback is in data/pqrbot.log)")
    assert "Traceback" in logging.Formatter().format(rec)   # the file's formatter still gets it


def test_json_lines_carry_time_level_logger_message_and_the_exception_text() -> None:
    plain = json.loads(JsonFormatter().format(record("a message on\ntwo lines for %s", "ana", level=logging.INFO)))
    assert plain["level"] == "INFO" and plain["logger"] == "bot.outbox.worker"
    assert plain["message"] == "a message on\ntwo lines for ana" and "exception" not in plain
    assert plain["time"][:2] == "20" and plain["time"][-6] in "+-"      # ISO 8601 with its offset
    try:
        1 / 0
    except ZeroDivisionError:
        rec = record("boom", exc_info=sys.exc_info(), level=logging.ERROR)
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["message"] == "boom" and "ZeroDivisionError: division by zero" in doc["exception"]
    assert doc["exception"].startswith("Traceback")


@pytest.mark.parametrize(("on_tty", "env", "where"), [
    (True, {}, "file"), (False, {}, "stderr"), (True, {"PQRBOT_LOG": "stderr"}, "stderr"),
    (False, {"PQRBOT_LOG": "file"}, "file"), (True, {"PQRBOT_LOG": " Auto "}, "file"),
])
def test_the_log_goes_to_the_file_only_while_the_console_is_on_a_terminal(
        on_tty: bool, env: dict[str, str], where: str) -> None:
    assert destination(console_on_tty=on_tty, env=env) == where


def test_unknown_settings_are_refused_with_the_values_that_work() -> None:
    with pytest.raises(LogSettingsError, match="auto, file or stderr"):
        destination(console_on_tty=True, env={"PQRBOT_LOG": "syslog"})
    with pytest.raises(LogSettingsError, match="text or json"):
        log_formatter({"PQRBOT_LOG_FORMAT": "xml"})
    assert isinstance(log_formatter({"PQRBOT_LOG_FORMAT": "JSON"}), JsonFormatter)
