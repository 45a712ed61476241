"""The few lines `pqrbot run` prints at start on a terminal: the database, what listens where, where
outgoing mail goes, which channels are off and why, and where the log is. Catalogue texts in the
configured language; the facts come from the config and from what the started channels bound."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.config import Config
from bot.i18n import t


def database_shown(url: str) -> str:
    """The SQLite file, or the database URL without its password."""
    if url.startswith("sqlite+aiosqlite:///"):
        return url.removeprefix("sqlite+aiosqlite:///").partition("?")[0] or ":memory:"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else "***@"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=user + host))


def _version() -> str:
    try:
        return metadata.version("pqrbot")
    except metadata.PackageNotFoundError:
        return "(dev)"


def banner(config: Config, *, smtp: tuple[str, int] | None, outgoing: Path, log_file: Path | None,
           web_url: str | None = None) -> list[str]:
    """The banner's lines. `smtp` is the address the SMTP server bound (None: email is off),
    `outgoing` where mail is written without a relay, `web_url` the web's address once it has one."""
    lang, ch = config.language, config.channels
    lines = [t(lang, "run.banner.title", version=_version()),
             "  " + t(lang, "run.banner.database", where=database_shown(config.database.url))]

    def add(text: str, **values: object) -> None:
        lines.append("  " + t(lang, text, **values))

    if ch.email.enabled and smtp is not None:
        add("run.banner.smtp", address=f"{smtp[0]}:{smtp[1]}", domains=", ".join(ch.email.domains))
        relay = ch.email.relay
        if relay is None:
            add("run.banner.maildrop", folder=f"{outgoing}/")
        else:
            add("run.banner.relay_starttls" if relay.starttls else "run.banner.relay",
                address=f"{relay.host}:{relay.port}")
    else:
        add("run.banner.email_off")
    if web_url:
        add("run.banner.web", url=web_url)
    if not ch.slack.enabled:
        add("run.banner.off", channel="Slack", setting="channels.slack.enabled")
    elif ch.slack.mode == "http":
        add("run.banner.slack_http", address=f"{ch.slack.http.host}:{ch.slack.http.port}")
    else:
        add("run.banner.slack_socket")
    if not ch.telegram.enabled:
        add("run.banner.off", channel="Telegram", setting="channels.telegram.enabled")
    elif ch.telegram.mode == "webhook":
        hook = ch.telegram.webhook
        add("run.banner.telegram_webhook", address=f"{hook.host}:{hook.port}", path=hook.path)
    else:
        add("run.banner.telegram_polling")
    if log_file is not None:
        add("run.banner.log", file=log_file)
    lines.append(t(lang, "run.banner.stop"))
    return lines
