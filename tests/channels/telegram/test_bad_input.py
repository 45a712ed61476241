"""A Telegram profile name longer than a customer's name may be is cut (the customer cannot be
asked to change their profile), and an address with a CR/LF is asked again, on both backends."""

from __future__ import annotations

import re
from typing import Any

from domain.limits import NAME_MAX
from tests.channels.telegram.conftest import Harness
from tests.fakes import telegram_updates as tu

LONG = "Ana" + "María" * 80


def named(update: dict[str, Any]) -> dict[str, Any]:
    """`update` sent by a user whose first name is LONG."""
    sender = (update.get("message") or update["callback_query"])["from"]
    sender["first_name"] = LONG
    return update


async def press(h: Harness, uid: int, label: str) -> None:
    msg = h.fake.last_message(uid)
    found = tu.buttons(msg)
    await h.deliver(named(tu.callback(uid, found.get(label) or label, msg)))


async def test_a_long_profile_name_is_cut_and_a_crlf_address_is_asked_again(db_bot: Harness) -> None:
    h, uid = db_bot, 77
    await h.deliver(named(tu.text(uid, "/start")))
    await press(h, uid, "Radicar PQR")
    await press(h, uid, "c:type:queja")
    await h.deliver(named(tu.text(uid, "El pedido no llegó")))
    await press(h, uid, "Continuar")
    await h.deliver(named(tu.text(uid, "ana@example.co\r\nBcc: otro@example.co")))
    assert "no parece un correo válido" in h.last_text(uid)
    await h.deliver(named(tu.text(uid, "ana@example.co")))
    await press(h, uid, "Confirmar")
    found = re.search(r"PQR-\d{4}-\d{6}", h.last_text(uid))
    assert found, h.last_text(uid)
    pqr = await h.app.service.show(found.group(0))
    assert len(pqr.customer.name) == NAME_MAX and pqr.customer.name.startswith("AnaMaría")
    assert pqr.customer.name.endswith("…") and pqr.customer.email == "ana@example.co"
