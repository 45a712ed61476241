"""`pqrbot doctor` as a process: its exit code and one line per check, before and after the
database is migrated (the checks themselves: tests/channels/test_doctor.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Run

pytestmark = pytest.mark.slow


def test_doctor_exit_code_follows_the_checks(pqrbot: Run, workdir: Path) -> None:
    before = pqrbot("doctor")
    assert before.returncode == 1, before.stderr
    lines = before.stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["ok", "FAIL"], lines
    assert f"Database: {workdir / 'pqr.db'} does not exist yet. Run `pqrbot db upgrade`" in lines[1]
    assert before.stderr == "pqrbot: 1 check failed.\n"
    assert not (workdir / "pqr.db").exists()                 # doctor creates nothing

    assert pqrbot("db", "upgrade").returncode == 0
    after = pqrbot("doctor")
    assert after.returncode == 0 and after.stderr == ""
    assert after.stdout.splitlines()[1].startswith("ok    Database: ")

    spanish = pqrbot("doctor", env={"PQRBOT_LANG": "es"})
    assert spanish.stdout.splitlines()[0] == f"ok    Configuración: {workdir / 'config.yaml'} es válida."
