"""`pqrbot doctor` through the CLI's entry point against real parts: an aiosmtpd relay (with AUTH
and STARTTLS when a test asks), a closed port for a relay that is down, the Slack and Telegram
fakes through slack_sdk and python-telegram-bot, real SQLite and PostgreSQL databases, a port
held by a listening socket. Each check is one line; the exit code is 1 when any fails."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from bot.cli.main import main
from storage.db import SqlDatabase
from tests.conftest import _pg_database, sqlite_url
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram

RELAY_USER, RELAY_PASSWORD = "pqrbot", "s3cret"


class Relay:
    """A real SMTP server on loopback; it accepts nothing but the conversation doctor has."""

    def __init__(self, *, auth: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.auth, self.tls = auth, tls
        self.logins: list[tuple[str, bool]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raise AssertionError("doctor must not send mail")

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (RELAY_USER.encode(),
                                                                                  RELAY_PASSWORD.encode())
        self.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)      # aiosmtpd answers 235 or 535

    def _protocol(self) -> SMTP:
        extra: dict[str, Any] = {}
        if self.auth:
            extra.update(authenticator=self._authenticate, auth_require_tls=self.tls is not None)
        if self.tls is not None:
            extra.update(tls_context=self.tls)
        return SMTP(self, hostname="relay", **extra)

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.get_running_loop().create_server(self._protocol, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """English answers, and the secrets of a healthy setup (tests unset what they need missing)."""
    monkeypatch.setenv("PQRBOT_LANG", "en")
    for name, value in {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "signing", "SLACK_APP_TOKEN": APP_TOKEN,
                        "TELEGRAM_BOT_TOKEN": "123456:TEST-token", "TELEGRAM_WEBHOOK_SECRET": "hook",
                        "RELAY_USER": RELAY_USER, "RELAY_PASSWORD": RELAY_PASSWORD}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PQRBOT_CONFIG", raising=False)
    return monkeypatch


@pytest.fixture
async def migrated(tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an upgraded SQLite database."""
    url = sqlite_url(tmp_path)
    db = SqlDatabase(url)
    await db.upgrade()
    await db.dispose()
    yield url


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1 that this process trusts (SSL_CERT_FILE)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield context


def config(tmp_path: Path, db_url: str, **channels: Any) -> Path:
    """A config file with console and email off unless `channels` turns them on."""
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"database": {"url": db_url},
                                "channels": {"console": {"enabled": False}, "email": {"enabled": False}, **channels}}))
    return path


def email(relay: Any, **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "listen": {"host": "127.0.0.1", "port": free_port()}, "relay": relay, **extra}


async def doctor(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """`pqrbot --config PATH doctor` (in a thread: it runs its own event loop while the fakes
    serve on this one); the exit code, stdout's lines and stderr."""
    code = await asyncio.to_thread(main, ["--config", str(path), "doctor"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def failing(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


async def test_a_healthy_setup_passes_every_check_one_line_each(
        tmp_path: Path, migrated: str, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async with Relay() as relay, FakeSlack() as slack, FakeTelegram() as tg:
        ports = free_port(), free_port()
        path = config(tmp_path, migrated, email=email({"host": "127.0.0.1", "port": relay.port}),
                      slack={"enabled": True, "mode": "http", "api_base_url": slack.api_base_url,
                             "http": {"host": "127.0.0.1", "port": ports[0]}},
                      telegram={"enabled": True, "mode": "webhook", "base_url": tg.base_url,
                                "webhook": {"host": "127.0.0.1", "port": ports[1]}})
        code, lines, err = await doctor(path, capsys)
    assert code == 0, lines
    assert err == ""
    assert [line.split(" ", 1)[0] for line in lines] == ["ok"] * 10
    text = "\n".join(lines)
    for needle in (f"Configuration: {path} is valid", "schema is at the latest revision",
                   f"Relay 127.0.0.1:{relay.port}: answers (EHLO)",
                   "Secrets of slack: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET set",
                   "auth.test accepts the bot token (user UBOT, workspace pqr)",
                   "Secrets of telegram: TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET set",
                   "getMe answers as @pqr_test_bot", f"127.0.0.1:{ports[0]} (Slack HTTP): free",
                   f"127.0.0.1:{ports[1]} (Telegram webhook): free", "(SMTP): free"):
        assert needle in text, needle
    assert [c.method for c in slack.calls] == ["auth.test"]
    assert [c.method for c in tg.calls] == ["getMe"]
    assert BOT_TOKEN not in text and "TEST-token" not in text


async def test_every_problem_is_one_line_that_says_what_to_do(
        tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A relay that is down, a bad Slack token, a missing secret, a bad Telegram token, a busy
    port and a database never migrated (an empty SQLite file)."""
    env.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    env.delenv("TELEGRAM_WEBHOOK_SECRET")
    env.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pqrbot.db").write_bytes(b"")
    closed = free_port()                                     # nothing listens there
    async with FakeSlack() as slack, FakeTelegram() as tg:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            held = busy.getsockname()[1]
            path = config(tmp_path, sqlite_url(tmp_path), email=email({"host": "127.0.0.1", "port": closed}),
                          slack={"enabled": True, "mode": "http", "api_base_url": slack.api_base_url,
                                 "http": {"host": "127.0.0.1", "port": held}},
                          telegram={"enabled": True, "mode": "webhook", "base_url": tg.base_url,
                                    "webhook": {"host": "127.0.0.1", "port": free_port()}})
            code, lines, err = await doctor(path, capsys)
    assert code == 1
    assert err.strip() == "pqrbot: 6 checks failed."
    bad = failing(lines)
    assert len(bad) == 6 and len(lines) == 10, lines
    expected = [
        "Database: ", "is at revision -; this version needs", "Run `pqrbot db upgrade`",
        f"Relay 127.0.0.1:{closed}: no answer (", "Start the relay or fix channels.email.relay",
        "auth.test refused the bot token (invalid_auth). Put the app's Bot User OAuth Token (xoxb-…) in SLACK_BOT_TOKEN",
        "Secrets of telegram: TELEGRAM_WEBHOOK_SECRET not set (channels.telegram.webhook.secret_token_env)",
        "the bot token was refused. Put the token @BotFather gave you in TELEGRAM_BOT_TOKEN",
        f"Port 127.0.0.1:{held} (Slack HTTP): in use (", "or change channels.slack.http.port",
    ]
    text = "\n".join(bad)
    for needle in expected:
        assert needle in text, needle
    assert "xoxb-revoked" not in "\n".join(lines) and "999:wrong" not in "\n".join(lines)


async def test_relay_starttls_and_auth_as_configured(
        tmp_path: Path, migrated: str, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tls: ssl.SSLContext) -> None:
    creds = {"username_env": "RELAY_USER", "password_env": "RELAY_PASSWORD"}
    async with Relay(auth=True, tls=tls) as relay:
        target = {"host": "127.0.0.1", "port": relay.port, "starttls": True, **creds}
        code, lines, _ = await doctor(config(tmp_path, migrated, email=email(target)), capsys)
        assert code == 0, lines
        assert lines[2] == "ok    Secrets of email: RELAY_USER, RELAY_PASSWORD set."
        assert lines[3] == f"ok    Relay 127.0.0.1:{relay.port}: answers (EHLO, STARTTLS, AUTH)."
        env.setenv("RELAY_PASSWORD", "wrong")
        code, lines, _ = await doctor(config(tmp_path, migrated, email=email(target)), capsys)
        assert code == 1
        (bad,) = failing(lines)
        assert "AUTH refused (" in bad and "Check the user and password in RELAY_USER and RELAY_PASSWORD" in bad
        assert relay.logins[0] == (RELAY_USER, True) and [ok for _, ok in relay.logins[1:]] in ([False], [False, False])
    async with Relay() as plain:                             # offers neither STARTTLS nor AUTH
        target = {"host": "127.0.0.1", "port": plain.port, "starttls": True}
        code, lines, _ = await doctor(config(tmp_path, migrated, email=email(target)), capsys)
        assert code == 1 and "STARTTLS failed (" in failing(lines)[0]
        code, lines, _ = await doctor(config(tmp_path, migrated, email=email({**target, "starttls": False, **creds})),
                                      capsys)
        assert code == 1 and "does not offer AUTH, yet RELAY_USER and RELAY_PASSWORD are set" in failing(lines)[0]


async def test_no_relay_means_the_outgoing_folder_must_be_writable(
        tmp_path: Path, migrated: str, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = await doctor(config(tmp_path, migrated, email=email(None)), capsys)
    assert code == 0, lines
    outgoing = tmp_path / "data" / "mail" / "outgoing"
    assert f"Outgoing mail: no relay (channels.email.relay is null); each message is written as a .eml file under {outgoing}" in lines[2]
    (tmp_path / "data" / "mail").write_text("a file where the folder should be")
    code, lines, _ = await doctor(config(tmp_path, migrated, email=email(None)), capsys)
    assert code == 1 and f"{outgoing} cannot be written ({tmp_path / 'data' / 'mail'}: not a folder)" in failing(lines)[0]


async def test_socket_mode_checks_the_app_token_and_missing_tokens_skip_the_call(
        tmp_path: Path, migrated: str, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeSlack() as slack:
        path = config(tmp_path, migrated, slack={"enabled": True, "mode": "socket", "api_base_url": slack.api_base_url})
        code, lines, _ = await doctor(path, capsys)
        assert code == 0 and "the app-level token opens Socket Mode" in lines[-1]
        env.setenv("SLACK_APP_TOKEN", "xapp-wrong")
        code, lines, _ = await doctor(path, capsys)
        assert code == 1 and "apps.connections.open refused the app-level token (invalid_auth)" in failing(lines)[0]
        env.delenv("SLACK_BOT_TOKEN")
        calls = len(slack.calls)
        code, lines, _ = await doctor(path, capsys)
        assert code == 1 and len(slack.calls) == calls       # no token: Slack is not called
        assert failing(lines) == ["FAIL  Secrets of slack: SLACK_BOT_TOKEN not set (channels.slack.bot_token_env). "
                                  "Export them before starting pqrbot, or turn channels.slack.enabled off."]


async def test_platforms_that_do_not_answer(tmp_path: Path, migrated: str, env: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    down = free_port()
    path = config(tmp_path, migrated, slack={"enabled": True, "mode": "http", "api_base_url": f"http://127.0.0.1:{down}/api/",
                                             "http": {"host": "127.0.0.1", "port": 0}},
                  telegram={"enabled": True, "base_url": f"http://127.0.0.1:{down}/bot"})
    code, lines, _ = await doctor(path, capsys)
    assert code == 1
    bad = failing(lines)
    assert len(bad) == 2
    assert f"Slack http://127.0.0.1:{down}/api/: no answer (" in bad[0]
    assert f"Telegram http://127.0.0.1:{down}/bot: no answer (" in bad[1]


@pytest.mark.postgres
async def test_database_unmigrated_or_unreachable_on_postgresql(
        tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async for url in _pg_database():                          # created, never upgraded
        code, lines, _ = await doctor(config(tmp_path, url), capsys)
        assert code == 1 and "is at revision -; this version needs" in failing(lines)[0]
        assert "postgres" in lines[1] and "Run `pqrbot db upgrade`" in lines[1]
        db = SqlDatabase(url)
        await db.upgrade()
        await db.dispose()
        code, lines, _ = await doctor(config(tmp_path, url), capsys)
        assert code == 0, lines
    closed = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/pqrbot"
    code, lines, _ = await doctor(config(tmp_path, closed), capsys)
    assert code == 1 and "Cannot connect to the database" in failing(lines)[0]


async def test_the_configuration_first(tmp_path: Path, env: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = await doctor(tmp_path / "nowhere.yaml", capsys)
    assert (code, len(lines)) == (1, 1) and err.strip() == "pqrbot: 1 check failed."
    assert lines[0] == (f"FAIL  Configuration: {tmp_path / 'nowhere.yaml'} not found. Create it (the repository's "
                        "config.yaml explains every key) or pass --config PATH.")
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: {email: {listen: {port: many}}}\n")
    code, lines, _ = await doctor(bad, capsys)
    assert (code, len(lines)) == (1, 1)
    assert "channels.email.listen.port" in lines[0] and lines[0].startswith("FAIL  Configuration: ")
