"""Pure readers of the IMAP server's answers (as aioimaplib hands them: a list of lines, bytes for
protocol text and bytearray for literals) and of a message's few headers the inbox lists."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.header import decode_header, make_header

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
_DATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")


@dataclass(frozen=True)
class Fetched:
    """One message of a UID FETCH answer."""

    uid: int
    data: bytes
    internaldate: dt.datetime | None


def uidvalidity(lines: Iterable[bytes | bytearray]) -> int | None:
    """The UIDVALIDITY a SELECT answer announces."""
    for line in lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    return None


def search_uids(lines: Sequence[bytes | bytearray]) -> list[int]:
    """The UIDs of a UID SEARCH answer (the untagged `SEARCH n n …` lines; the last line is the
    tagged completion, whose timing figures are not UIDs)."""
    uids: list[int] = []
    for line in lines[:-1]:
        text = bytes(line)
        if text.upper().startswith(b"SEARCH"):
            text = text[6:]
        uids.extend(int(tok) for tok in text.split() if tok.isdigit())
    return sorted(set(uids))


def sizes(lines: Iterable[bytes | bytearray]) -> dict[int, int]:
    """UID → RFC822.SIZE from a `UID FETCH … (UID RFC822.SIZE)` answer."""
    out: dict[int, int] = {}
    for line in lines:
        if isinstance(line, bytearray):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if _FETCH.match(line) and uid and size:
            out[int(uid.group(1))] = int(size.group(1))
    return out


def fetched(lines: Sequence[bytes | bytearray]) -> list[Fetched]:
    """The messages of a `UID FETCH … (UID INTERNALDATE BODY.PEEK[])` answer. Each starts with a
    `n FETCH (` line, carries its body as a literal, and may name its UID after the literal; an
    unsolicited FETCH (a flag change another client made) has no body and is left out."""
    out: list[Fetched] = []
    uid: int | None = None
    body: bytes | None = None
    date: dt.datetime | None = None

    def flush() -> None:
        if uid is not None and body is not None:
            out.append(Fetched(uid, body, date))

    for line in lines:
        if isinstance(line, bytearray):
            if body is None:
                body = bytes(line)
            continue
        if _FETCH.match(line):
            flush()
            uid, body, date = None, None, None
        found = _UID.search(line)
        if found and uid is None:
            uid = int(found.group(1))
        stamp = _INTERNALDATE.search(line)
        if stamp and date is None:
            date = internaldate(stamp.group(1).decode("ascii", "replace"))
    flush()
    return out


def internaldate(text: str) -> dt.datetime | None:
    """`01-Dec-2026 15:08:51 +0000` as an aware datetime (month names in English whatever the locale)."""
    m = _DATE.fullmatch(text)
    if not m or m.group(2).lower() not in _MONTHS:
        return None
    day, _, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
    try:
        return dt.datetime(int(year), _MONTHS[m.group(2).lower()], int(day), int(hh), int(mm), int(ss),
                           tzinfo=dt.timezone(offset))
    except ValueError:
        return None


@dataclass(frozen=True)
class Headers:
    message_id: str | None
    subject: str | None
    return_path: str | None


_WANTED = ("message-id", "subject", "return-path")


def _fields(data: bytes) -> dict[str, str]:
    """The first Message-ID, Subject and Return-Path of the header block, unfolded, as text."""
    found: dict[str, str] = {}
    current: str | None = None
    for raw in data.split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            break                                   # the end of the header block
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                found[current] += " " + line.strip().decode("utf-8", "replace")
            continue
        key, colon, value = line.partition(b":")
        name = key.strip().lower().decode("ascii", "replace") if colon else ""
        current = name if name in _WANTED and name not in found else None
        if current is not None:
            found[current] = value.strip().decode("utf-8", "replace")
        if len(found) == len(_WANTED) and current is None:
            break
    return found


def headers(data: bytes) -> Headers:
    """Message-ID, Subject (decoded) and Return-Path address of a raw message; None for any that
    is missing or cannot be read (the intake worker parses the whole message anyway). A small
    scan of the header block, not the email package's parser: that costs 0.1-0.5 ms a message,
    most of what a batch takes."""
    found = _fields(data)
    subject = found.get("subject")
    if subject and "=?" in subject:
        try:
            subject = str(make_header(decode_header(subject)))
        except Exception:              # an encoded word that does not decode: kept as it came
            pass
    path = found.get("return-path")
    return Headers(" ".join(found.get("message-id", "").split()) or None,
                   " ".join((subject or "").split()) or None, path.strip("<> ") or None if path else None)


def uid_set(uids: Iterable[int]) -> str:
    """`1:3,7,9:10` for [1, 2, 3, 7, 9, 10]."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = prev = None
    for uid in [*ordered, None]:
        if uid is not None and prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            ranges.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    return ",".join(ranges)


def mailbox_name(name: str) -> str:
    """A folder name as a quoted IMAP argument, non-ASCII letters in modified UTF-7 (RFC 3501
    5.1.3), so `Radicados-Atención` reaches the server as the folder people see."""
    out: list[str] = []
    pending: list[str] = []

    def shift() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            shift()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    shift()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'
