"""Who holds a TCP port, for the one line `pqrbot run` prints when a port it must listen on is taken:
"127.0.0.1:2525 is in use by pid 1234 (pqrbot run)". Found with psutil; when the system will not
say (another user's process, no permission), the line says so and how to look."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path
import psutil

WILDCARDS = {"", "0.0.0.0", "::"}


def describe(cmdline: Sequence[str]) -> str:
    """A short name for a command line: `python -m bot --config c.yaml run` -> `pqrbot run`,
    `/srv/.venv/bin/python /srv/.venv/bin/pqrbot run` -> `pqrbot run`, `/usr/sbin/exim4 -bd` -> `exim4 -bd`."""
    args = list(cmdline)
    if args and Path(args[0]).name.startswith("python") and len(args) > 1:
        args = args[1:]
        if args[:2] == ["-m", "bot"]:
            args = ["pqrbot", *args[2:]]
        elif args[0] == "-m":
            args = args[1:]
    if not args:
        return "?"
    args[0] = Path(args[0]).name
    if args[0] == "pqrbot" and "--config" in args[1:-1]:   # the global option says less than the verb
        at = args.index("--config")
        del args[at:at + 2]
    text = " ".join(args)
    return text if len(text) <= 80 else text[:79] + "…"


def _same_address(bound: str, wanted: str) -> bool:
    """A listener on `bound` keeps us from binding `wanted` (a wildcard on either side clashes)."""
    if bound in WILDCARDS or wanted in WILDCARDS or bound == wanted:
        return True
    try:
        ipaddress.ip_address(wanted)
    except ValueError:          # a host name: we cannot tell which address it is, so any clashes
        return True
    return False


def _listening() -> Iterable[tuple[str, int, int | None]]:
    """(address, port, pid or None) of every listening TCP socket the system shows us."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):   # e.g. macOS without root: our own processes still show
        conns = None
    if conns is not None:
        yield from ((c.laddr.ip, c.laddr.port, c.pid) for c in conns if c.status == psutil.CONN_LISTEN and c.laddr)
        return
    for proc in psutil.process_iter():
        try:
            mine = proc.net_connections(kind="tcp")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
            continue
        yield from ((c.laddr.ip, c.laddr.port, proc.pid) for c in mine if c.status == psutil.CONN_LISTEN and c.laddr)


def holder(host: str, port: int) -> str | None:
    """`pid 1234 (pqrbot run)` for the process listening on host:port; None when it cannot tell."""
    for address, bound_port, pid in _listening():
        if bound_port != port or not _same_address(address, host):
            continue
        if not pid:
            return None
        try:
            return f"pid {pid} ({describe(psutil.Process(pid).cmdline())})"
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            return f"pid {pid}"
    return None


def in_use(host: str, port: int) -> str:
    """The reason line for an address already in use."""
    who = holder(host, port)
    if who is not None:
        return f"{host}:{port} is in use by {who}"
    return (f"{host}:{port} is in use by another process (this user cannot see which: "
            f"`ss -ltnp 'sport = :{port}'` or `lsof -i :{port}` as root shows it)")
