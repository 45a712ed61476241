"""The `pqrbot` process driven in subprocesses with a temporary config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    cfg = {
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/pqr.db"},
        "roles": {"staff": ["slack:U0STAFF"], "managers": ["slack:U0BOSS"]},
        "web": {"port": 0}, "channels": {"console": {"enabled": False}, "email": {"enabled": False}},
    }
    (tmp_path / "config.yaml").write_text(json.dumps(cfg))
    return tmp_path


@pytest.fixture
def pqrbot(workdir: Path) -> Run:
    """Run `python -m bot --config … ARGS` in `workdir`; returns the completed process. The CLI
    speaks English here (PQRBOT_LANG=en) unless a test's `env` says otherwise."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None,
            config: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "bot"] + (["--config", str(workdir / "config.yaml")] if config else [])
        return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=workdir, input=input,
                              timeout=120, env={**os.environ, "PQRBOT_LANG": "en", **(env or {})})

    return run


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
