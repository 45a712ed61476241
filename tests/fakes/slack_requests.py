"""Requests as Slack sends them: form-encoded slash commands, `payload=` JSON for button presses
and form submissions, signed with v0 HMAC-SHA256 over `v0:{timestamp}:{raw body}`."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = {"id": "T0TEAM", "domain": "pqr"}
_seq = itertools.count(1)


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: X-Slack-Request-Timestamp and X-Slack-Signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def trigger_id() -> str:
    n = next(_seq)
    return f"{n}.{7000 + n}.{hashlib.md5(str(n).encode()).hexdigest()}"


def slash_command(text: str, *, user: str, response_url: str, channel: str = "C0QUEUE",
                  user_name: str = "agent", trigger: str | None = None) -> dict[str, str]:
    """The fields of a `/pqr` slash command."""
    return {"token": "legacy-verification-token", "team_id": TEAM["id"], "team_domain": TEAM["domain"],
            "channel_id": channel, "channel_name": "pqr-queue", "user_id": user, "user_name": user_name,
            "command": "/pqr", "text": text, "api_app_id": "A0FAKE", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger or trigger_id()}


def block_actions(action_id: str, value: str, *, user: str, response_url: str, channel: str = "C0TRIAGE",
                  message_ts: str = "1700000000.000001", ephemeral: bool = False) -> dict[str, Any]:
    """A button press on a message."""
    return {
        "type": "block_actions", "team": TEAM, "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0FAKE", "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": trigger_id(), "channel": {"id": channel, "name": "pqr-triage"},
        "message": {"type": "message", "ts": message_ts, "text": "card", "blocks": []},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": f"{time.time():.6f}"}],
    }


def view_submission(view: dict[str, Any], values: dict[str, str], *, user: str) -> dict[str, Any]:
    """Submitting an opened modal `view` with `values` (block_id -> typed text or selected option)."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        el, bid = block["element"], block["block_id"]
        raw = values.get(bid)
        if el["type"] == "static_select":
            chosen = next((o for o in el["options"] if o["value"] == raw), el.get("initial_option"))
            state[bid] = {"value": {"type": "static_select", "selected_option": chosen}}
        else:
            state[bid] = {"value": {"type": el["type"], "value": raw}}
    return {
        "type": "view_submission", "team": TEAM, "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0FAKE", "token": "legacy-verification-token", "trigger_id": trigger_id(),
        "view": {**view, "id": "V0000001", "team_id": TEAM["id"], "state": {"values": state}, "hash": "h"},
        "response_urls": [],
    }


def form_body(fields: dict[str, str]) -> str:
    """A slash command body (form-encoded)."""
    return urlencode(fields)


def payload_body(payload: dict[str, Any]) -> str:
    """An interactivity body: `payload=<JSON>`, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})
