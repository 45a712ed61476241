"""The checks that need no platform SDK, each answering `Finding`s (catalogue keys `doctor.*`)."""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bot.config import Config
from bot.ports.checks import Finding
from bot.process.port_holder import holder
from storage.db import DatabaseUnavailable
from storage.schema import doctor_database, schema_state


def secrets_finding(channel: str, wanted: Mapping[str, str], env: Mapping[str, str]) -> Finding | None:
    """Are the environment variables `wanted` names ({config key: variable}) set and not blank?
    None when the channel needs none."""
    if not wanted:
        return None
    missing = {key: var for key, var in wanted.items() if not env.get(var, "").strip()}
    if missing:
        return Finding(False, "doctor.secrets.missing", {
            "channel": channel, "names": ", ".join(missing.values()),
            "keys": ", ".join(f"channels.{channel}.{k}" for k in missing)})
    return Finding(True, "doctor.secrets.ok", {"channel": channel, "names": ", ".join(wanted.values())})


async def database_finding(url: str) -> Finding:
    """Reachable, and at the migrations' head (nothing is migrated or created here)."""
    db = doctor_database(url)
    where = {"where": db.where}
    try:
        state = await schema_state(db)
    except DatabaseUnavailable as exc:
        return Finding(False, f"storage.{exc.reason}", {"where": exc.where, "detail": exc.detail})
    finally:
        await db.dispose()
    head = ", ".join(state.heads)
    if not state.exists:
        return Finding(False, "doctor.db.missing", where)
    if state.unknown:
        return Finding(False, "doctor.db.newer", {**where, "current": ", ".join(state.current), "head": head})
    if not state.latest:
        return Finding(False, "doctor.db.behind", {**where, "current": ", ".join(state.current) or "-", "head": head})
    return Finding(True, "doctor.db.ok", {**where, "head": head})


def port_finding(what: str, key: str, host: str, port: int) -> Finding | None:
    """Can `pqrbot run` listen on host:port (bound here with SO_REUSEADDR, as asyncio's servers
    are, then let go)? `what` is the catalogue key of the listener's name, `key` the config key
    to change. None for port 0 (any free port)."""
    if port == 0:
        return None
    values = {"what": what, "host": host, "port": port, "setting": key}
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return Finding(False, "doctor.port.bad_host", {**values, "error": exc.strerror or str(exc)})
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
                sock.listen()
            except OSError as exc:
                busy = exc.errno == errno.EADDRINUSE
                error = exc.strerror or str(exc)
                who = holder(host, port) if busy else None
                return Finding(False, "doctor.port.busy" if busy else "doctor.port.unusable",
                               {**values, "error": f"{error}: {who}" if who else error})
    return Finding(True, "doctor.port.ok", values)


def listen_findings(config: Config) -> list[Finding]:
    """The ports `pqrbot run` would listen on: SMTP, Slack's HTTP mode, Telegram's webhook."""
    ch = config.channels
    listeners: list[tuple[str, str, str, int]] = []
    if ch.email.enabled:
        listeners.append(("SMTP", "channels.email.listen.port", ch.email.listen.host, ch.email.listen.port))
    if ch.slack.enabled and ch.slack.mode == "http":
        listeners.append(("Slack HTTP", "channels.slack.http.port", ch.slack.http.host, ch.slack.http.port))
    if ch.telegram.enabled and ch.telegram.mode == "webhook":
        hook = ch.telegram.webhook
        listeners.append(("Telegram webhook", "channels.telegram.webhook.port", hook.host, hook.port))
    found = [port_finding(*listener) for listener in listeners]
    return [f for f in found if f is not None]


def folder_finding(folder: Path) -> Finding:
    """Outgoing mail with no relay: can a file be written in `folder` (or, before the first mail,
    in the nearest folder above it that exists, where pqrbot will create it)?"""
    here = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    values = {"dir": str(folder.absolute())}
    if not here.is_dir():
        return Finding(False, "doctor.maildrop.unwritable", {**values, "error": f"{here}: not a folder"})
    try:
        with tempfile.TemporaryFile(dir=here):
            pass
    except OSError as exc:
        return Finding(False, "doctor.maildrop.unwritable", {**values, "error": f"{here}: {exc.strerror or exc}"})
    if here != folder and not os.access(here, os.W_OK | os.X_OK):
        return Finding(False, "doctor.maildrop.unwritable", {**values, "error": f"{here}: not writable"})
    return Finding(True, "doctor.maildrop.ok", values)
