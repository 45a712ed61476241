"""Update payloads shaped as Telegram sends them (fields as in the Bot API and the recorded
updates of the telegram_types corpus); update_id and message_id are filled in by `FakeTelegram.push`."""

from __future__ import annotations

import time
from typing import Any


def user(uid: int, lang: str | None = "es", first: str = "Ana", last: str | None = "Pérez") -> dict[str, Any]:
    u: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first, "username": f"user{uid}"}
    if last:
        u["last_name"] = last
    if lang:
        u["language_code"] = lang
    return u


def chat(uid: int) -> dict[str, Any]:
    return {"id": uid, "first_name": "Ana", "username": f"user{uid}", "type": "private"}


def message(uid: int, lang: str | None = "es", **content: Any) -> dict[str, Any]:
    msg = {"from": user(uid, lang), "chat": chat(uid), "date": int(time.time()), **content}
    return {"message": msg}


def text(uid: int, body: str, lang: str | None = "es", *, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    update = message(uid, lang, text=body)
    if body.startswith("/"):
        length = len(body.split(" ", 1)[0])
        update["message"]["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    if reply_to is not None:
        update["message"]["reply_to_message"] = reply_to
    return update


def command(uid: int, body: str, lang: str | None = "es") -> dict[str, Any]:
    return text(uid, body, lang)


def photo(uid: int, file_id: str, size: int, caption: str | None = None, lang: str | None = "es") -> dict[str, Any]:
    sizes = [{"file_id": file_id + "-small", "file_unique_id": "s" + file_id[:6], "file_size": 698,
              "width": 90, "height": 30},
             {"file_id": file_id, "file_unique_id": "b" + file_id[:6], "file_size": size, "width": 950, "height": 320}]
    content: dict[str, Any] = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return message(uid, lang, **content)


def document(uid: int, file_id: str, name: str, mime: str, size: int, caption: str | None = None,
             lang: str | None = "es") -> dict[str, Any]:
    content: dict[str, Any] = {"document": {"file_name": name, "mime_type": mime, "file_id": file_id,
                                            "file_unique_id": "d" + file_id[:6], "file_size": size}}
    if caption:
        content["caption"] = caption
    return message(uid, lang, **content)


def callback(uid: int, data: str, on_message: dict[str, Any], lang: str | None = "es") -> dict[str, Any]:
    """A press on an inline button of the bot message `on_message`."""
    return {"callback_query": {"id": f"{uid}{int(time.time() * 1e6)}", "from": user(uid, lang),
                               "message": on_message, "chat_instance": f"-{uid}", "data": data}}


def buttons(msg: dict[str, Any]) -> dict[str, str]:
    """The callback data of a bot message's inline buttons, by label."""
    rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}
