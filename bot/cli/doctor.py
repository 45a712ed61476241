"""`pqrbot doctor`: the configuration, the database, each enabled channel's secrets and platform,
and the listen ports — one line per check on stdout, a failing one saying what to do; exit 1
(with the count on stderr) when any fails. Nothing is changed: no migration, no mail sent."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.bootstrap import doctor_checks
from bot.config import Config, ConfigError
from bot.i18n import t, tn
from bot.ports.checks import Finding


def add_parser(sub: Any) -> None:
    sub.add_parser("doctor", help="check the configuration, the database, each enabled channel and the ports; "
                                  "exit 1 if anything is wrong")


def config_finding(path: Path, config: Config | None, problem: ConfigError | None, lang: str) -> Finding:
    """The first line: the file was found and every key is valid."""
    if config is not None:
        return Finding(True, "doctor.config.ok", {"path": str(path)})
    if not path.exists():
        return Finding(False, "doctor.config.missing", {"path": str(path)})
    assert problem is not None
    text = t(lang, problem.key, **problem.values) if problem.key else str(problem)
    return Finding(False, "doctor.config.invalid", {"error": "; ".join(text.splitlines())})


async def findings(config: Config) -> list[Finding]:
    """Every check after the configuration's, run at once, in report order."""
    from bot.doctor.probes import database_finding, listen_findings   # alembic: only for the doctor
    database = asyncio.ensure_future(database_finding(config.database.url))
    channels = await asyncio.gather(*(check() for check in doctor_checks(config)))
    return [await database, *(f for found in channels for f in found), *listen_findings(config)]


def line(finding: Finding, lang: str) -> str:
    mark = t(lang, "doctor.mark.ok" if finding.ok else "doctor.mark.fail")
    return f"{mark:<5} {t(lang, finding.key, **finding.values)}"


def doctor(path: Path, config: Config | None, problem: ConfigError | None, lang: str) -> int:
    """Print the report; 0 when every check passed, else 1."""
    report = [config_finding(path, config, problem, lang)]
    if config is not None:
        report += asyncio.run(findings(config))
    for finding in report:
        print(line(finding, lang), flush=True)
    failed = sum(not f.ok for f in report)
    if failed:
        print(f"pqrbot: {tn(lang, 'doctor.failed', failed)}", file=sys.stderr)
        return 1
    return 0
