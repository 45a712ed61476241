"""A scheduled report on Slack through the real outbox worker, slack_sdk's files_upload_v2 and the
fake Slack: both files (XLSX, PDF) uploaded to the channel with the exact stored bytes, in one
message with a short text; a row naming a file that is not stored uploads nothing."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.ports import Permanent
from bot.ports.payloads import ReportDelivery, ReportFileRef
from bot.reports.schedule import PDF, XLSX, ScheduledReports
from tests.channels.slack.conftest import NOW, Harness, slack_config


async def test_both_files_are_uploaded_to_the_channel_with_a_short_message(slack: Harness) -> None:
    app = slack.app
    cfg = parse_config({**slack_config(slack.fake), "reports": {"schedule": [
        {"report": "monthly", "every": "month", "day": 5, "to": ["slack:C0MANAGERS"]}]}})
    assert await ScheduledReports(app.db, cfg, app.reports, app.service.calendar).run(NOW) == 1
    assert await OutboxWorker(app.db, {"slack": slack.adapter}, lambda: NOW).run_once() == 1

    done = (await slack.fake.wait_for("files.completeUploadExternal"))[0]
    assert done.args["channel_id"] == "C0MANAGERS"
    assert "informe mensual de PQR de 2026-11" in done.args["initial_comment"]
    asked = slack.fake.of("files.getUploadURLExternal")
    assert [a.args["filename"] for a in asked] == ["informe-mensual-2026-11.xlsx", "informe-mensual-2026-11.pdf"]
    assert [f["title"] for f in done.args["files"]] == ["informe-mensual-2026-11.xlsx", "informe-mensual-2026-11.pdf"]
    async with app.db.uow(readonly=True) as uow:
        (row,) = [i for i in await uow.outbox.list() if i.payload["kind"] == "report"]
        stored = [await uow.report_files.get(f["file_id"]) for f in row.payload["files"]]
    assert row.status == "sent"
    assert [(f.content_type if f else None) for f in stored] == [XLSX, PDF]
    uploaded = [slack.fake.uploads[str(f["id"])] for f in done.args["files"]]
    assert uploaded == [f.data for f in stored if f is not None]
    assert uploaded[0].startswith(b"PK") and uploaded[1].startswith(b"%PDF")
    assert [int(a.args["length"]) for a in asked] == [len(d) for d in uploaded]
    assert slack.fake.of("chat.postMessage") == []          # the comment is the message


async def test_a_report_whose_file_is_not_stored_uploads_nothing(slack: Harness) -> None:
    payload = ReportDelivery(report="monthly", period="2026-11", client=None, language="es", subject="Informe",
                             text="Adjunto", files=[ReportFileRef(file_id=424242, filename="x.pdf", content_type=PDF)])
    with pytest.raises(Permanent, match="#424242"):
        await slack.adapter.send("C0MANAGERS", payload)
    assert slack.fake.of("files.getUploadURLExternal") == [] and slack.fake.uploads == {}
