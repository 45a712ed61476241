"""A PQR's attachments on Slack: listed on the card (`/pqr show`, the triage card) with names
escaped, and a button (a select menu when there are many) that uploads one into the card's thread
with files_upload_v2, through signed requests, the real Bolt app and the fake Slack. Only staff."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.ports.payloads import Triage
from domain.files import FileData
from tests.channels.slack.conftest import NOBODY, STAFF, Harness
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import Call

INVOICE = b"%PDF-1.4 factura " * 200 + bytes(range(256))     # binary, not only text


async def file_with(slack: Harness, files: list[FileData]) -> tuple[str, list[int]]:
    """A PQR whose first message carries `files` (stored as intake stores them); their ids."""
    rad = await slack.file()
    pqr = await slack.app.service.show(rad)
    async with slack.app.db.uow() as uow:
        assert pqr.messages[0].id is not None
        await uow.mail.add_attachments(pqr.messages[0].id, files)
        await uow.commit()
    stored = (await slack.app.service.show(rad)).messages[0].attachments
    return rad, [a.id for a in stored]


def _texts(node: Any) -> list[dict[str, Any]]:
    """Every text object ({"type": "mrkdwn"|"plain_text", "text"}) in some blocks."""
    if isinstance(node, list):
        return [t for n in node for t in _texts(n)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str) else []
    return found + [t for v in node.values() for t in _texts(v)]


def file_elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]
            if e["action_id"].startswith("pqr.file.")]


async def press_file(slack: Harness, element: dict[str, Any], *, user: str = STAFF, option: int = 0,
                     message_ts: str = "1700000000.000077", ephemeral: bool = False) -> int:
    payload = rq.block_actions(element["action_id"], element.get("value", ""), user=user,
                               response_url=slack.fake.response_url(), message_ts=message_ts, ephemeral=ephemeral)
    if element["type"] == "static_select":
        chosen = element["options"][option]
        payload["actions"] = [{"type": "static_select", "action_id": element["action_id"], "block_id": "b9",
                               "selected_option": chosen, "action_ts": f"{time.time():.6f}"}]
    status, _ = await slack.post(rq.payload_body(payload))
    return status


async def uploaded(slack: Harness) -> tuple[Call, bytes]:
    done = (await slack.fake.wait_for("files.completeUploadExternal"))[0]
    file_id = done.args["files"][0]["id"]
    return done, slack.fake.uploads[file_id]


async def test_show_lists_the_files_and_a_press_uploads_the_exact_bytes_into_the_thread(slack: Harness) -> None:
    rad, (invoice_id, _) = await file_with(slack, [FileData("factura <!channel>.pdf", "application/pdf", INVOICE),
                                                   FileData("foto.jpg", "image/jpeg", b"\xff\xd8jpeg")])
    answer = await slack.command(f"show {rad}")
    mrkdwn = [t["text"] for t in _texts(answer.args["blocks"]) if t["type"] == "mrkdwn"]
    assert any("factura &lt;!channel&gt;.pdf · application/pdf · 3,6 kB" in t for t in mrkdwn)
    assert not any("<!channel>" in t for t in mrkdwn)        # plain_text labels are never parsed
    assert f"#{invoice_id} factura &lt;!channel&gt;.pdf (application/pdf, 3,6 kB)" in answer.args["text"]
    buttons = file_elements(answer.args["blocks"])
    assert [b["type"] for b in buttons] == ["button", "button"]
    assert await press_file(slack, buttons[0], message_ts="1700000000.000077") == 200
    done, data = await uploaded(slack)
    assert data == INVOICE
    assert (done.args["channel_id"], done.args["thread_ts"]) == ("C0TRIAGE", "1700000000.000077")
    asked = slack.fake.of("files.getUploadURLExternal")[0]
    assert asked.args["filename"] == "factura <!channel>.pdf" and int(asked.args["length"]) == len(INVOICE)
    assert rad in done.args["initial_comment"] and "&lt;!channel&gt;" in done.args["initial_comment"]


async def test_a_press_by_someone_who_is_not_staff_is_refused_and_recorded(slack: Harness) -> None:
    rad, _ = await file_with(slack, [FileData("factura.pdf", "application/pdf", INVOICE)])
    buttons = file_elements((await slack.command(f"show {rad}")).args["blocks"])
    assert await press_file(slack, buttons[0], user=NOBODY) == 200
    refusal = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert refusal.args["user"] == NOBODY and "Solo el personal" in refusal.args["text"]
    assert slack.fake.of("files.getUploadURLExternal") == [] and slack.fake.uploads == {}
    async with slack.app.db.uow(readonly=True) as uow:
        refused = [e for e in await uow.audit.list(kind="refused") if e.actor == f"slack:{NOBODY}"]
    assert [e.data["action"] for e in refused] == ["slack_button:attachment"]


async def test_on_an_ephemeral_card_the_file_goes_to_a_direct_message(slack: Harness) -> None:
    rad, _ = await file_with(slack, [FileData("factura.pdf", "application/pdf", INVOICE)])
    buttons = file_elements((await slack.command(f"show {rad}")).args["blocks"])
    await press_file(slack, buttons[0], ephemeral=True)
    done, data = await uploaded(slack)
    assert data == INVOICE and done.args["channel_id"] == f"D{STAFF}" and not done.args.get("thread_ts")


async def test_many_files_get_one_select_menu(slack: Harness) -> None:
    files = [FileData(f"doc{i}.pdf", "application/pdf", f"contenido {i}".encode()) for i in range(7)]
    rad, ids = await file_with(slack, files)
    (menu,) = file_elements((await slack.command(f"show {rad}")).args["blocks"])
    assert menu["type"] == "static_select" and len(menu["options"]) == 7
    await press_file(slack, menu, option=5)
    done, data = await uploaded(slack)
    assert data == b"contenido 5" and done.args["files"][0]["title"] == "doc5.pdf"


async def test_an_id_of_another_pqr_uploads_nothing(slack: Harness) -> None:
    rad, (other_id,) = await file_with(slack, [FileData("ajeno.pdf", "application/pdf", INVOICE)])
    mine = await slack.file(email="luis@example.co", name="Luis")
    forged = {"type": "button", "action_id": f"pqr.file.{other_id}",
              "value": json.dumps({"radicado": mine, "id": other_id})}
    await press_file(slack, forged)
    answer = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert f"Ese adjunto ya no está en la PQR {mine}" in answer.args["text"]
    assert slack.fake.uploads == {}


async def test_the_triage_card_carries_the_buttons_too(slack: Harness) -> None:
    rad, (invoice_id,) = await file_with(slack, [FileData("factura.pdf", "application/pdf", INVOICE)])
    ts = await slack.adapter.send("C0TRIAGE", Triage(radicado=rad))
    posted = (await slack.fake.wait_for("chat.postMessage"))[0]
    (button,) = file_elements(posted.args["blocks"])
    assert button["action_id"] == f"pqr.file.{invoice_id}"
    await press_file(slack, button, message_ts=str(ts))
    done, data = await uploaded(slack)
    assert data == INVOICE and done.args["thread_ts"] == ts
