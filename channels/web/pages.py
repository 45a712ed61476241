"""What every page shares: the Jinja2 environment (autoescaped: customer text is always escaped),
the reader's language (`?lang=en`, else the browser's Accept-Language, else the config's), the
client address (X-Forwarded-For only from `web.trusted_proxies`) and the error page."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.i18n import CATALOGUES, t

TEMPLATES = Path(__file__).parent / "templates"
# auto_reload off: the templates ship with the code, so a page need not stat its files each time.
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "xml"]),
                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def language(request: Request, default: str) -> str:
    """`?lang=es|en`, else the first supported language of Accept-Language, else `default`."""
    asked = request.query_params.get("lang", "").lower()
    if asked in CATALOGUES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in CATALOGUES:
            return code
    return default


def client_ip(request: Request, trusted: tuple[str, ...]) -> str:
    """The client's address: the peer, or the last untrusted hop of X-Forwarded-For when the
    peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return peer


def _within(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def render(name: str, lang: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from `templates/`, with `t` (the catalogue in `lang`) and `lang` available."""
    html = ENV.get_template(name).render(lang=lang, t=lambda key, **v: t(lang, key, **v), **values)
    return HTMLResponse(html, status_code=status)


def error_page(lang: str, status: int, message: str) -> HTMLResponse:
    """A clear page for a refusal or a failure: what happened, never a stack trace."""
    return render("error.html", lang, status=status, status_code=status, message=message)
