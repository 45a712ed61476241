"""Bad input to the `pqrbot` process ends in one line on stderr that says what is wrong and what is
accepted — never a traceback or SQLAlchemy's text — with exit 1 (2 for usage), and nothing stored.
Files, databases, arguments and environments are real; nothing of pqrbot is replaced."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _pg_database
from tests.e2e.conftest import Run, as_json
from tests.unwritable import unwritable_folder

pytestmark = pytest.mark.slow

NEW = ["pqr", "new", "--type", "queja", "--name", "Ana", "--email", "ana@example.co", "--subject", "Cobro doble"]
LEAKS = ("Traceback", "sqlalche.me", "sqlalchemy", "asyncpg", "File \"")


def one_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a process that exited with `code`."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert not any(leak in proc.stderr for leak in LEAKS), proc.stderr
    return lines[0]


def write_config(workdir: Path, **changes: Any) -> None:
    cfg = json.loads((workdir / "config.yaml").read_text())
    cfg.update(changes)
    (workdir / "config.yaml").write_text(json.dumps(cfg))


def nothing_stored(workdir: Path) -> None:
    """No PQR, customer, outbox row or penalty in the SQLite file (read directly: one process
    less per check); a refused command before the database was touched leaves no file at all."""
    path = workdir / "pqr.db"
    if not path.exists():
        return
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in ("pqrs", "customers", "outbox", "penalties"):
            if table in tables:
                assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


# -- the configuration file ------------------------------------------------------------------------

def test_a_config_that_is_not_utf8(pqrbot: Run, workdir: Path) -> None:
    (workdir / "config.yaml").write_bytes(b"language: es\ntimezone: Am\xe9rica/Bogota\n")
    line = one_line(pqrbot("pqr", "list"), 1)
    assert "not UTF-8" in line and "line 2, column 13" in line and "save it as UTF-8" in line
    spanish = one_line(pqrbot("pqr", "list", env={"PQRBOT_LANG": ""}), 1)
    assert "no es texto UTF-8" in spanish


def test_a_config_that_is_not_yaml_is_one_line_too(pqrbot: Run, workdir: Path) -> None:
    (workdir / "config.yaml").write_text("language: es\n  timezone: [\n")
    assert "not valid YAML" in one_line(pqrbot("pqr", "list"), 1)


def test_a_radicado_format_without_year_is_refused_at_load(pqrbot: Run, workdir: Path) -> None:
    write_config(workdir, radicado_format="PQR-{seq:06d}")
    line = one_line(pqrbot(*NEW), 1)
    assert "radicado_format" in line and "must contain {year} and {seq}" in line
    write_config(workdir, radicado_format="PQR-{year}-{seq:06d}-{client}")
    assert "unknown field {client}" in one_line(pqrbot(*NEW), 1)
    write_config(workdir, radicado_format="PQR-{year}-{seq:06d}")
    nothing_stored(workdir)


def test_smtp_auth_naming_unset_variables_stops_run_in_one_line(pqrbot: Run, workdir: Path) -> None:
    write_config(workdir, channels={"console": {"enabled": False}, "email": {
        "enabled": True, "listen": {"host": "127.0.0.1", "port": 0},
        "auth": {"username_env": "PQRBOT_TEST_SMTP_USER", "password_env": "PQRBOT_TEST_SMTP_PASSWORD"}}})
    env = {"PQRBOT_LOG": "file"}
    for name in ("PQRBOT_TEST_SMTP_USER", "PQRBOT_TEST_SMTP_PASSWORD"):
        os.environ.pop(name, None)
    line = one_line(pqrbot("run", env=env), 1)
    assert "channels.email.auth.username_env" in line and "PQRBOT_TEST_SMTP_USER is not set" in line
    write_config(workdir, channels={"console": {"enabled": False}, "email": {
        "enabled": True, "auth": {"username_env": "PQRBOT_TEST_SMTP_USER"}}})
    line = one_line(pqrbot("run", env=env), 1)
    assert "channels.email.auth" in line and "password_env" in line


# -- the database file -------------------------------------------------------------------------------

def db_file(workdir: Path) -> Path:
    return workdir / "pqr.db"


def test_a_file_that_is_not_a_database(pqrbot: Run, workdir: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
    db_file(workdir).write_bytes(png)
    for args in (["pqr", "list"], NEW, ["db", "upgrade"]):
        line = one_line(pqrbot(*args), 1)
        assert "is not a usable SQLite database (file is not a database)" in line and "backup" in line
    assert db_file(workdir).read_bytes() == png            # left as it was


def test_a_truncated_database(pqrbot: Run, workdir: Path) -> None:
    as_json(pqrbot(*NEW, "--json"))
    assert pqrbot("db", "upgrade").returncode == 0          # checkpointed: the file holds everything
    data = db_file(workdir).read_bytes()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file(workdir)}{suffix}").unlink(missing_ok=True)
    db_file(workdir).write_bytes(data[: len(data) // 3])
    line = one_line(pqrbot("pqr", "list"), 1)
    assert "malformed" in line and "Restore it from a backup" in line


def test_another_applications_sqlite_database(pqrbot: Run, workdir: Path) -> None:
    with sqlite3.connect(db_file(workdir)) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY)")
    line = one_line(pqrbot(*NEW), 1)
    assert "another application's SQLite database (tables: moz_places)" in line
    with sqlite3.connect(db_file(workdir)) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["moz_places"]


def test_run_on_a_corrupt_database_is_one_line(pqrbot: Run, workdir: Path) -> None:
    db_file(workdir).write_bytes(b"SQLite format 2\x00" + b"\x00" * 4000)
    line = one_line(pqrbot("run", env={"PQRBOT_LOG": "file"}), 1)
    assert "is not a usable SQLite database" in line


def test_a_database_path_under_a_regular_file(pqrbot: Run, workdir: Path) -> None:
    (workdir / "data").write_text("a file, not a folder")
    write_config(workdir, database={"url": f"sqlite+aiosqlite:///{workdir}/data/pqrbot.db"})
    for args in (["pqr", "list"], NEW, ["run"]):
        line = one_line(pqrbot(*args, env={"PQRBOT_LOG": "stderr"}), 1)
        assert f"{workdir}/data is not a folder" in line and "database.url" in line
    assert (workdir / "data").read_text() == "a file, not a folder"


@pytest.fixture
def locked(workdir: Path) -> Iterator[Path]:
    """A data folder pqrbot may not write in."""
    with unwritable_folder(workdir / "locked") as folder:
        yield folder


def test_a_data_folder_pqrbot_may_not_write_in(pqrbot: Run, workdir: Path, locked: Path) -> None:
    write_config(workdir, database={"url": f"sqlite+aiosqlite:///{locked}/pqrbot.db"})
    for args in (["pqr", "list"], NEW):
        line = one_line(pqrbot(*args), 1)
        assert f"Cannot write the database {locked}/pqrbot.db" in line and "Allow writing" in line
    assert list(locked.iterdir()) == []


# -- arguments ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [*NEW, "--received-at", "9999-12-31T00:00:00+00:00"],
    [*NEW, "--received-at", "0001-01-01T00:00:00+00:00"],
    ["digest", "--at", "9999-12-31T00:00:00-05:00"],
])
def test_instants_out_of_range_are_usage_errors(pqrbot: Run, workdir: Path, args: list[str]) -> None:
    line = one_line(pqrbot(*args), 2)
    assert "is out of range: use a date and time between 1970-01-01T00:00:00+00:00 and 2999-12-31" in line
    assert "--help" in line
    nothing_stored(workdir)


@pytest.mark.parametrize("args, accepted", [
    (["outbox", "retry", str(2**70)], "between 1 and 9223372036854775807"),
    (["penalty", "show", str(2**70)], "between 1 and 2147483647"),
    ([*NEW, "--telegram-chat-id", str(2**64)], "between -9223372036854775808 and 9223372036854775807"),
    (["pqr", "list", "--limit", "1" + "0" * 5000], "between 1 and 2147483647"),
])
def test_integers_past_their_column_are_usage_errors(pqrbot: Run, workdir: Path, args: list[str], accepted: str) -> None:
    line = one_line(pqrbot(*args), 2)
    assert "is not a whole number" in line and accepted in line
    nothing_stored(workdir)


def test_an_email_with_crlf_is_refused_where_it_enters(pqrbot: Run, workdir: Path) -> None:
    lines = []
    for bad in ("ana@example.co\r\nBcc: evil@example.co", "ana@example.co\n", "ana", "Ana <ana@example.co>"):
        args = [a if a != "ana@example.co" else bad for a in NEW]
        lines.append(one_line(pqrbot(*args), 2))
        assert "is not an email address; write one address, e.g. ana@example.co" in lines[-1]
    assert "“ana@example.co\\r\\nBcc: evil@example.co”" in lines[0]      # shown, not obeyed
    nothing_stored(workdir)


def test_arguments_that_are_not_utf8(pqrbot: Run, workdir: Path) -> None:
    name = os.fsdecode(b"Ana \xff\xfe")                  # what Python makes of such bytes
    args = [a if a != "Ana" else name for a in NEW]
    line = one_line(pqrbot(*args), 2)
    assert "is not valid UTF-8 text" in line and "\\udcff" in line
    nothing_stored(workdir)


def test_a_300_character_name_on_sqlite(pqrbot: Run, workdir: Path) -> None:
    args = [a if a != "Ana" else "x" * 300 for a in NEW]
    assert one_line(pqrbot(*args), 1) == "pqrbot: The name is too long: at most 200 characters."
    nothing_stored(workdir)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async for url in _pg_database():
        yield url


@pytest.mark.postgres
def test_300_character_names_areas_and_clients_on_postgresql(pqrbot: Run, workdir: Path, pg_url: str) -> None:
    write_config(workdir, database={"url": pg_url})
    long = "x" * 300
    cases = [
        ([a if a != "Ana" else long for a in NEW], "The name is too long: at most 200 characters."),
        ([*NEW, "--area", long], "The area is too long: at most 200 characters."),
        ([*NEW, "--channel", long], "The channel is too long: at most 40 characters (e.g. phone)."),
        (["penalty", "new", "--client", long, "--category", "kpi_ans", "--amount", "10", "--area", "Logística"],
         "penalty: The client is too long: at most 200 characters."),
        (["penalty", "new", "--client", "ACME", "--category", "kpi_ans", "--amount", "10", "--area", long],
         "penalty: The area is too long: at most 200 characters."),
        (["penalty", "new", "--client", "ACME", "--category", "kpi_ans", "--amount", "1" + "0" * 30,
          "--area", "Logística"], "penalty: The amount is too large: at most 18 digits before the decimal point."),
    ]
    for args, answer in cases:
        assert one_line(pqrbot(*args), 1) == f"pqrbot: {answer}"
    assert as_json(pqrbot("pqr", "list", "--status", "all", "--json")) == []
    assert as_json(pqrbot("penalty", "list", "--json")) == []
    filed = as_json(pqrbot(*[a if a != "Ana" else "n" * 200 for a in NEW], "--json"))
    assert len(filed["customer"]["name"]) == 200


# -- the last resort ---------------------------------------------------------------------------------

def test_an_unforeseen_failure_is_one_line_and_the_traceback_goes_to_the_log(pqrbot: Run, workdir: Path) -> None:
    """stdout on a full disk (/dev/full) is nothing pqrbot handles on purpose: the last-resort
    guard answers in one line and the traceback lands in the log beside the database."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    assert pqrbot("db", "upgrade").returncode == 0
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "bot", "--config", str(workdir / "config.yaml"), "db", "upgrade"],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=workdir, timeout=60,
                              env={**os.environ, "PQRBOT_LANG": "en", "PYTHONUNBUFFERED": "1"})
    line = one_line(proc, 1)
    log = workdir / "pqrbot.log"
    assert line == f"pqrbot: Unexpected failure (OSError); the details are in {log}. Please report it."
    text = log.read_text()
    assert "Traceback" in text and "No space left on device" in text
