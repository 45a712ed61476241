"""The public web form's filing and tracking, on top of `PqrService`.

Filing: a form is filed once whatever happens to the browser — its one-time nonce is the inbound
key (`("web", nonce)`) and, as `web:{nonce}`, the external id of the PQR's first message, so a
second post of the same form finds the first PQR instead of filing again. The files are stored in
the filing transaction, and the form as received (its fields and the files' names, sizes and
sha256, not their bytes) is kept as a raw message with what became of it (filed, duplicate, or
kept aside by the honeypot), as intake keeps mail. The acknowledgment email and Slack triage are
queued by `PqrService.file_in`.

Unlike mail, the web can ask again: a file over the limits or of a type the form does not take is
not dropped with a note, the form is refused (`check_files`) and the customer fixes it.

Tracking: a PQR is shown to whoever knows its radicado and its customer's email, and only its
public conversation (messages in and out, never internal notes)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import t
from bot.pqrs.attachments import not_taken_line
from bot.pqrs.service import FilingRequest, PqrService
from domain.attachments import FileRefusal, NotTaken
from domain.errors import NotFound
from domain.files import FileData
from domain.limits import FILENAME_MAX, RADICADO_MAX
from domain.pqr import Direction, Message, Pqr
from domain.pqr_types import PqrType
from storage.ports import RawMessage, UnitOfWork

CHANNEL = "web"
FILED, DUPLICATE, KEPT_ASIDE = "filed", "duplicate", "kept_aside"

_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)           # .doc, .xls
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")                  # .zip and the Office / OpenDocument formats
_TEXT = ()                                             # no signature: text without NUL bytes

# The files the form takes: extension -> (the content type stored, the signatures the content may
# start with). The browser's declared type is not believed: it is whatever the extension says, and
# the content must match, so a renamed executable or an HTML page is refused.
ACCEPTED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "txt": ("text/plain", _TEXT),
    "csv": ("text/csv", _TEXT),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "zip": ("application/zip", _ZIP),
}
ACCEPTED_LIST = ", ".join(dict.fromkeys(e.upper() for e in ACCEPTED if e != "jpg"))


@dataclass(frozen=True)
class WebSubmission:
    """A checked form: every field already valid (`public.py` says what is wrong otherwise)."""

    pqr_type: PqrType
    name: str
    email: str
    subject: str
    body: str
    language: str
    nonce: str
    received_at: dt.datetime
    phone: str | None = None
    document: str | None = None
    files: tuple[FileData, ...] = ()

    @property
    def external_id(self) -> str:
        return f"{CHANNEL}:{self.nonce}"

    def raw(self) -> bytes:
        """The form as received, for the raw message kept with the filing (no file bytes)."""
        fields = {"type": self.pqr_type.value, "name": self.name, "email": self.email, "phone": self.phone,
                  "document": self.document, "subject": self.subject, "body": self.body,
                  "language": self.language,
                  "files": [{"filename": f.filename, "content_type": f.content_type, "size": f.size,
                             "sha256": f.sha256} for f in self.files]}
        return json.dumps(fields, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class WebFiled:
    """What the form's answer shows: the PQR (None only when a repeated nonce's PQR cannot be
    found), whether this post was a repeat, and the names of the files stored with it."""

    pqr: Pqr | None
    duplicate: bool
    filenames: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileProblem:
    """Why one of the form's files is refused: `type` (not an accepted extension), `content` (the
    bytes are not what the extension says), or a `FileRefusal` (too big, too many)."""

    filename: str
    reason: str
    size: int
    limit: int | None = None


@dataclass(frozen=True)
class PublicView:
    """A PQR as its customer may see it on the web: no notes, no staff names."""

    radicado: str
    type: PqrType
    status: str
    subject: str
    received_at: dt.datetime
    due_at: dt.datetime
    messages: tuple[Message, ...]


def safe_filename(name: str) -> str:
    """The file's own name (no folders), without control characters, at most FILENAME_MAX long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip() or "archivo"
    return base if len(base) <= FILENAME_MAX else base[:FILENAME_MAX]


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def typed(filename: str, data: bytes) -> FileData:
    """The file as stored: its safe name and the content type its (accepted) extension gives."""
    name = safe_filename(filename)
    accepted = ACCEPTED.get(extension(name))
    return FileData(name, accepted[0] if accepted else "application/octet-stream", data)


def check_files(files: Sequence[FileData], *, max_files: int, max_file_bytes: int) -> list[FileProblem]:
    """The form's files that cannot be taken, each with its reason; empty when all can."""
    problems: list[FileProblem] = []
    taken = 0
    for f in files:
        ext = extension(f.filename)
        if ext not in ACCEPTED:
            problems.append(FileProblem(f.filename, "type", f.size))
        elif f.size > max_file_bytes:
            problems.append(FileProblem(f.filename, FileRefusal.FILE_TOO_BIG.value, f.size, max_file_bytes))
        elif not _content_matches(ext, f.data):
            problems.append(FileProblem(f.filename, "content", f.size))
        elif taken >= max_files:
            problems.append(FileProblem(f.filename, FileRefusal.TOO_MANY.value, f.size, max_files))
        else:
            taken += 1
    return problems


def _content_matches(ext: str, data: bytes) -> bool:
    signatures = ACCEPTED[ext][1]
    if not signatures:
        return b"\x00" not in data
    if ext == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(signatures)


def file_problem_line(lang: str, problem: FileProblem) -> str:
    """`factura.exe: ese tipo de archivo no se acepta …` (plain text; the page escapes it)."""
    if problem.reason == "type":
        return t(lang, "web.public.file_type", filename=problem.filename, types=ACCEPTED_LIST)
    if problem.reason == "content":
        return t(lang, "web.public.file_content", filename=problem.filename,
                 ext=extension(problem.filename).upper())
    return not_taken_line(lang, NotTaken(problem.filename, FileRefusal(problem.reason), size=problem.size,
                                         limit=problem.limit))


class WebFilingService:
    """Files the public form's PQRs and finds them for tracking."""

    def __init__(self, service: PqrService) -> None:
        self.service = service

    async def file(self, sub: WebSubmission) -> WebFiled:
        """File the form (with its files) once; a repeated nonce answers with the first PQR."""
        req = FilingRequest(
            pqr_type=sub.pqr_type, channel=CHANNEL, name=sub.name, subject=sub.subject, body=sub.body,
            received_at=sub.received_at, actor=f"email:{sub.email}", email=sub.email, phone=sub.phone,
            language=sub.language, external_id=sub.external_id, inbound_key=(CHANNEL, sub.nonce),
            staff_notes=(t(self.service.language, "web.public.document_note", document=sub.document),)
            if sub.document else ())
        async with self.service.db.uow() as uow:
            pqr = await self.service.file_in(uow, req)
            if pqr is None:
                filed = await self._first(uow, sub)
            else:
                first = pqr.messages[0] if pqr.messages else None
                if first is not None and first.id is not None and sub.files:
                    await uow.mail.add_attachments(first.id, sub.files)
                filed = WebFiled(pqr, duplicate=False, filenames=tuple(f.filename for f in sub.files))
            await uow.mail.keep_raw(self._raw(sub, DUPLICATE if filed.duplicate else FILED,
                                              pqr_id=filed.pqr.id if filed.pqr else None))
            await uow.commit()
            return filed

    async def keep_aside(self, sub: WebSubmission, *, reason: str) -> None:
        """Keep a form that must not be filed (the honeypot was filled) as a raw message only."""
        async with self.service.db.uow() as uow:
            await uow.mail.keep_raw(self._raw(sub, KEPT_ASIDE, reason=reason))
            await uow.commit()

    async def _first(self, uow: UnitOfWork, sub: WebSubmission) -> WebFiled:
        radicado = await uow.mail.radicado_for_external_ids([sub.external_id])
        pqr = await uow.pqrs.get(radicado) if radicado else None
        names: tuple[str, ...] = ()
        if pqr is not None:
            first = next((m for m in pqr.messages if m.external_id == sub.external_id), None)
            names = tuple(a.filename for a in first.attachments) if first else ()
        return WebFiled(pqr, duplicate=True, filenames=names)

    @staticmethod
    def _raw(sub: WebSubmission, disposition: str, *, reason: str | None = None,
             pqr_id: int | None = None) -> RawMessage:
        return RawMessage(channel=CHANNEL, external_id=sub.external_id, received_at=sub.received_at,
                          data=sub.raw(), disposition=disposition, reason=reason, pqr_id=pqr_id)

    async def track(self, radicado: str, email: str) -> PublicView | None:
        """The PQR `radicado` when `email` is its customer's (case-insensitive), else None — the
        same None whichever of the two is wrong."""
        rad = radicado.strip().upper()
        if not rad or len(rad) > RADICADO_MAX:
            return None
        try:
            pqr = await self.service.show(rad)
        except NotFound:
            return None
        known = pqr.customer.email
        if not known or known.strip().casefold() != email.strip().casefold() or pqr.radicado is None:
            return None
        public = tuple(m for m in pqr.messages if m.direction in (Direction.IN, Direction.OUT))
        return PublicView(radicado=pqr.radicado, type=pqr.type, status=str(pqr.status), subject=pqr.subject,
                          received_at=pqr.received_at, due_at=pqr.due_at, messages=public)
