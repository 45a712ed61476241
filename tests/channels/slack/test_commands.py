"""Every /pqr verb through signed HTTP requests, the real Bolt app and the fake Slack: same
answers as the console, lookups ephemeral, changes in the channel, refusals recorded."""

from __future__ import annotations

import pytest

from tests.channels.slack.conftest import ANA, NOBODY, NOW, STAFF, Harness


def texts(call_args: dict[str, object]) -> str:
    return str(call_args["text"]) + " " + str(call_args.get("blocks"))


async def test_help_and_empty_text_are_ephemeral_with_blocks(slack: Harness) -> None:
    for text in ("help", "ayuda", ""):
        answer = await slack.command(text)
        assert answer.args["response_type"] == "ephemeral"
        assert "/pqr" in answer.args["text"] and answer.args["blocks"]


async def test_list_show_stats_answer_like_the_console(slack: Harness) -> None:
    rad = await slack.file()
    expected = await slack.app.commands.handle(f"slack:{STAFF}", f"show {rad}", NOW)
    for text in (f"show {rad}", f"ver {rad.lower()}"):
        answer = await slack.command(text)
        assert answer.args["response_type"] == "ephemeral"
        assert answer.args["text"] == expected.text
        actions = [b for b in answer.args["blocks"] if b["type"] == "actions"][0]
        assert [e["action_id"] for e in actions["elements"]] == ["pqr.take", "pqr.show", "pqr.reply"]
    for text in ("list", "listar", "lista vencidas", "list breached", "list type:reclamo", "estadisticas", "stats"):
        answer = await slack.command(text)
        console = await slack.app.commands.handle(f"slack:{STAFF}", text, NOW)
        assert answer.args["text"] == console.text, text
    assert rad in (await slack.command("list")).args["text"]


@pytest.mark.parametrize("mention", ["<@U0ANA>", "<@U0ANA|ana>"])
async def test_assign_with_both_mention_forms_is_posted_in_the_channel(slack: Harness, mention: str) -> None:
    rad = await slack.file()
    answer = await slack.command(f"asignar {rad} {mention}")
    assert answer.args["response_type"] == "in_channel"
    assert "slack:U0ANA" in answer.args["text"]
    fields = next(b for b in answer.args["blocks"] if "fields" in b)["fields"]
    assert any("<@U0ANA>" in f["text"] for f in fields)       # our own mention, not escaped
    mine = await slack.command("list mine", )
    assert rad not in mine.args["text"]
    pqr = await slack.app.service.show(rad)
    assert pqr.assignee == f"slack:{ANA}"


async def test_every_changing_verb_in_english_and_spanish(slack: Harness) -> None:
    rad = await slack.file()
    steps = [
        (f"take {rad}", "in_channel"),
        (f"nota {rad} llamar a la clienta", "ephemeral"),
        (f"responder {rad} Ya revisamos su cobro", "in_channel"),
        (f"status {rad} esperando_cliente -- pedimos el extracto", "in_channel"),
        (f"plazo {rad} 2027-01-20 -- esperamos informe técnico", "in_channel"),
        (f"cerrar {rad} Le devolvimos el dinero", "in_channel"),
        (f"reabrir {rad} -- la clienta insiste", "in_channel"),
        (f"tomar {rad}", "in_channel"),
        (f"estado {rad} en_tramite", "in_channel"),
        (f"close {rad} Done", "in_channel"),
        (f"reopen {rad}", "in_channel"),
        (f"note {rad} internal", "ephemeral"),
        (f"reply {rad} Hello again", "in_channel"),
        (f"due {rad} friday", "ephemeral"),   # refused: no reason after --
    ]
    for text, visibility in steps:
        answer = await slack.command(text)
        assert answer.args["response_type"] == visibility, (text, answer.args["text"])
    pqr = await slack.app.service.show(rad)
    kinds = [m.direction.value for m in pqr.messages]
    assert kinds.count("note") == 2 and kinds.count("out") >= 3
    async with slack.app.db.uow(readonly=True) as uow:
        rows = await uow.outbox.list()
    replies = [r for r in rows if r.payload.get("kind") in ("reply", "closing")]
    assert {r.channel for r in replies} == {"email"} and len(replies) == 4  # 2 replies + 2 closings; notes stay inside


async def test_new_with_arguments_files_and_announces(slack: Harness) -> None:
    answer = await slack.command('new queja "Luis Pérez" luis@example.co Demora en la entrega')
    assert answer.args["response_type"] == "in_channel"
    assert "PQR-2026-" in answer.args["text"]


async def test_people_who_are_not_staff_are_refused_and_recorded(slack: Harness) -> None:
    rad = await slack.file()
    for text in ("list", f"take {rad}", "new"):
        answer = await slack.command(text, user=NOBODY)
        assert answer.args["response_type"] == "ephemeral"
        assert "Solo el personal" in answer.args["text"]
    assert slack.fake.of("views.open") == []
    async with slack.app.db.uow(readonly=True) as uow:
        refused = [e for e in await uow.audit.list(kind="refused") if e.actor == f"slack:{NOBODY}"]
    assert len(refused) == 3


async def test_bad_input_gets_a_clear_answer(slack: Harness) -> None:
    unknown = await slack.command("frobnicate")
    assert "frobnicate" in unknown.args["text"] and unknown.args["response_type"] == "ephemeral"
    assert "PQR-2099-000001" in (await slack.command("show PQR-2099-000001")).args["text"]
    assert (await slack.command('note PQR-1 "unclosed')).args["response_type"] == "ephemeral"


async def test_customer_text_is_escaped(slack: Harness) -> None:
    rad = await slack.file(name="<!channel> Eve", subject="Hola <@U0BOSS> mira <http://evil.example|aquí> & más",
                           body="<!here> urgente")
    answer = await slack.command(f"show {rad}")
    everything = texts(answer.args)
    for raw in ("<!channel>", "<@U0BOSS>", "<http://evil.example|aquí>", "<!here>"):
        assert raw not in everything
    assert "&lt;!channel&gt; Eve" in everything and "&amp; más" in everything
    listing = await slack.command("list")
    assert "<@U0BOSS>" not in texts(listing.args)


async def test_lists_page_with_buttons(slack: Harness) -> None:
    for i in range(23):
        await slack.file(subject=f"Asunto {i}", email=f"c{i}@example.co")
    first = await slack.command("list")
    actions = [b for b in first.args["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1 and len(actions[0]["elements"]) == 1
    nxt = actions[0]["elements"][0]
    status, _ = await slack.press(nxt["action_id"], nxt["value"], channel="C0QUEUE")
    assert status == 200
    page2 = await slack.fake.wait_for("response_url", lambda c: c.args.get("replace_original") is True)
    body = page2[0].args
    assert "Página 2 de 2" in str(body["blocks"]) and body["text"].count("PQR-2026-") == 3
