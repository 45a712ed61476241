"""The customer's whole filing conversation, step by step, as a reusable move."""

from __future__ import annotations

import re

from tests.channels.telegram.conftest import Harness
from tests.fakes import telegram_updates as tu

PHOTO = b"\x89PNG fake photo bytes" * 50
DOC = b"%PDF-1.4 fake document" * 80
LABELS = {"es": ("Radicar PQR", "Queja", "Continuar", "Omitir", "Confirmar"),
          "en": ("File a PQR", "Complaint", "Continue", "Skip", "Confirm")}


async def file_pqr(h: Harness, uid: int, lang: str = "es", *, files: bool = True,
                   email: str | None = "ana@example.co") -> str:
    """/start → Radicar → Queja → text (+ photo + document) → Continuar → email → Confirmar;
    returns the radicado from the bot's answer."""
    file_label, type_label, cont, skip, confirm = LABELS[lang]
    await h.say(uid, "/start", lang)
    await h.press(uid, file_label, lang)
    await h.press(uid, "c:type:queja", lang)
    await h.say(uid, "El producto llegó dañado <b>roto</b>\nPedido 123", lang)
    if files:
        h.fake.add_file(f"PHOTO{uid}", PHOTO, f"photos/file_{uid}.jpg")
        h.fake.add_file(f"DOC{uid}", DOC, f"documents/file_{uid}.pdf")
        await h.deliver(tu.photo(uid, f"PHOTO{uid}", len(PHOTO), caption="foto del daño", lang=lang))
        await h.deliver(tu.document(uid, f"DOC{uid}", "factura.pdf", "application/pdf", len(DOC), lang=lang))
    await h.press(uid, cont, lang)
    if email:
        await h.say(uid, email, lang)
    else:
        await h.press(uid, skip, lang)
    await h.press(uid, confirm, lang)
    found = re.search(r"PQR-\d{4}-\d{6}", h.last_text(uid))
    assert found, h.last_text(uid)
    return found.group(0)
