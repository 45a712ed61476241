"""The intake form (`/pqr new`) checks addresses and lengths before anything is filed, even for a
submission that ignores the form's own max_length (Slack enforces it only in the client)."""

from __future__ import annotations

import json

from domain.limits import NAME_MAX
from storage.ports import PqrFilter
from tests.channels.slack.conftest import STAFF, Harness
from tests.fakes import slack_requests as rq


async def _form(slack: Harness) -> dict[str, object]:
    await slack.post(rq.form_body(rq.slash_command("new", user=STAFF, response_url=slack.fake.response_url())))
    return (await slack.fake.wait_for("views.open"))[0].args["view"]  # type: ignore[no-any-return]


async def _submit(slack: Harness, view: dict[str, object], **values: str) -> dict[str, str]:
    status, text = await slack.post(rq.payload_body(rq.view_submission(
        view, {"type": "queja", "received_by": "phone", "subject": "Demora", **values}, user=STAFF)))  # type: ignore[arg-type]
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    return answer["errors"]  # type: ignore[no-any-return]


async def test_a_crlf_or_otherwise_bad_address_is_shown_in_the_form(slack: Harness) -> None:
    view = await _form(slack)
    for bad in ("ana@example.co\r\nBcc: x@y.co", "ana@localhost", "Ana <ana@example.co>", "a..b@example.co"):
        assert set(await _submit(slack, view, name="Ana", email=bad)) == {"email"}, bad
    async with slack.app.db.uow(readonly=True) as uow:
        assert await uow.pqrs.count(PqrFilter(statuses=())) == 0


async def test_over_long_fields_are_shown_in_the_form_with_the_limit(slack: Harness) -> None:
    view = await _form(slack)
    errors = await _submit(slack, view, name="x" * 300, phone="3" * 60, subject="s" * 1200)
    assert set(errors) == {"name", "phone", "subject"}
    assert str(NAME_MAX) in errors["name"] and "nombre" in errors["name"]
    async with slack.app.db.uow(readonly=True) as uow:
        assert await uow.pqrs.count(PqrFilter(statuses=())) == 0
