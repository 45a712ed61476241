"""bot.process.logs.configure with a real log file: on a terminal INFO goes to the file only and warnings
also to stderr, rate-limited; without one everything goes to stderr; JSON lines on request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.process import logs


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """configure() replaces the root logger's handlers (pytest's included): put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, lvl in chatty.items():
        logging.getLogger(name).setLevel(lvl)
    logging.captureWarnings(False)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_info_goes_to_the_file_and_warnings_also_to_the_terminal(tmp_path: Path) -> None:
    terminal, clock = io.StringIO(), Clock()
    setup = logs.configure(data_dir=tmp_path / "data", console_on_tty=True, env={}, stderr=terminal, clock=clock)
    assert setup.file == tmp_path / "data" / "pqrbot.log"
    log = logging.getLogger("bot.outbox.worker")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade  -> 0001")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot…/getUpdates")
    for n in range(5):
        log.warning("outbox: channel %s is down (%s)", "email", f"attempt {n}")
    clock.now += 60
    log.warning("outbox: channel %s is down (%s)", "email", "attempt 5")

    shown = terminal.getvalue().splitlines()
    assert len(shown) == 2 and all(" WARNING " in line for line in shown)
    assert shown[1].endswith("attempt 5) [4 more like this in the last minute]")
    written = setup.file.read_text()
    assert "INFO alembic.runtime.migration: Running upgrade" in written
    assert "httpx" not in written                      # chatty libraries: their warnings only
    assert written.count("is down") == 6               # the file keeps every one


def test_without_a_terminal_everything_goes_to_stderr_as_json_when_asked(tmp_path: Path) -> None:
    err = io.StringIO()
    setup = logs.configure(data_dir=tmp_path / "data", console_on_tty=False, level="debug",
                           env={"PQRBOT_LOG_FORMAT": "json"}, stderr=err)
    assert setup.file is None and not (tmp_path / "data").exists()
    logging.getLogger("pqrbot").debug("database: %s", "data/pqrbot.db")
    logging.getLogger("pqrbot").info("pqrbot running (%s)", "email")
    docs = [json.loads(line) for line in err.getvalue().splitlines()]
    assert [(d["level"], d["logger"], d["message"]) for d in docs] == [
        ("DEBUG", "pqrbot", "database: data/pqrbot.db"), ("INFO", "pqrbot", "pqrbot running (email)")]


def test_a_bad_level_is_refused() -> None:
    with pytest.raises(logs.LogSettingsError, match="DEBUG, INFO, WARNING, ERROR"):
        logs.configure(data_dir=Path("unused"), console_on_tty=False, level="LOUD", env={})
