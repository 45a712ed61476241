"""Raw RFC 5322 bytes -> `IncomingMessage`, tolerant of what real mail looks like.

The stdlib email package with the modern policy does the MIME work; every text that leaves this
module is valid Unicode (undecodable bytes are replaced, raw UTF-8 in headers is recovered), so
storage never sees surrogates or NULs. Quoted replies are cut from the body in Spanish and English."""

from __future__ import annotations

import datetime as dt
import email
import re
import unicodedata
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.headerregistry import Address, HeaderRegistry
from email.utils import getaddresses
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

from bot.ports import IncomingMessage
from domain.files import FileData
from domain.limits import NAME_MAX, SUBJECT_MAX, fit
from domain.pqr_types import PqrType

CHANNEL = "email"
_ADDRESS = re.compile(r"^[^@\s<>()\",;:]+@[^@\s<>()\",;:]+\.[^@\s<>()\",;:]+$")
_MSGID = re.compile(r"<[^<>\s]+>")
_LATIN1 = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252"}
# Gmail's Spanish quote header, which mail-parser-reply does not know; it may wrap onto a second line.
_GMAIL_ES = re.compile(r"^[ \t]*El[ \t][^\n]{0,300}?(?:\n[^\n]{0,200}?)?escribi[óo][ \t]*:[ \t]*$",
                       re.MULTILINE | re.IGNORECASE)
_REPLY_PARSER = EmailReplyParser(languages=["es", "en"])
# Cheap test for "there may be quoted mail here"; the reply parser (~2 ms on 5 KB) runs only then.
_MAYBE_QUOTED = re.compile(r"^[ \t]*>|escribi[óo][ \t]*:|wrote[ \t]*:|^[ \t]*\*?(?:de|from|enviado|sent)[ \t]*:"
                           r"|-{3,}[ \t]*(?:original|mensaje original|forwarded|mensaje reenviado)",
                           re.MULTILINE | re.IGNORECASE)
_QUOTE_HEADER_LINE = re.compile(r"^[ \t]*\*?(?:de|from|enviado|sent)[ \t]*:", re.MULTILINE | re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(?:(?:re|rv|fw|fwd|tr|aw|res|enc)\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE)
_TYPES: tuple[tuple[re.Pattern[str], PqrType], ...] = (
    (re.compile(r"^(?:derecho\s+de\s+peticion|peticion|petition)\b|\bderecho\s+de\s+peticion\b"), PqrType.PETICION),
    (re.compile(r"^(?:queja|complaint)\b"), PqrType.QUEJA),
    (re.compile(r"^(?:reclamo|reclamacion|claim)\b"), PqrType.RECLAMO),
    (re.compile(r"^(?:sugerencia|suggestion)\b"), PqrType.SUGERENCIA),
    (re.compile(r"^(?:felicitacion|felicitaciones|compliment)\b"), PqrType.FELICITACION),
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Valid Unicode without NULs: surrogate-escaped raw bytes are re-read as UTF-8 (invalid
    ones replaced)."""
    if _SURROGATE.search(text):  # (a regex: a generator over a 5 KB body cost ~0.3 ms)
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


class _CachingPolicy(EmailPolicy):
    """The modern policy, remembering parsed header objects by (name, raw value).

    `EmailPolicy` re-parses a header on every access, and the parser itself, `get_content_type`,
    `get_filename`, `get_content_charset`, `get_payload(decode=True)` … each read Content-Type
    again: about eight full parses of it per message (~0.1 ms each). Header objects are
    immutable strings, so one per distinct raw value can be shared, within a message and across
    messages (most mail has the same few Content-Type values)."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):
            return value
        key = (name, value)
        found = _PARSED_HEADERS.get(key)
        if found is None:
            if len(_PARSED_HEADERS) >= _PARSED_HEADERS_MAX:
                _PARSED_HEADERS.clear()
            found = _PARSED_HEADERS[key] = super().header_fetch_parse(name, value)
        return found


_PARSED_HEADERS: dict[tuple[str, str], str] = {}
_PARSED_HEADERS_MAX = 2048
_POLICY = _CachingPolicy()


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in the declared charset. Latin-1 is read as its superset Windows-1252;
    US-ASCII, a missing, unknown or wrong charset fall back to UTF-8, then Windows-1252."""
    name = (charset or "").strip().strip('"').lower()
    if name in ("", "us-ascii", "ascii"):
        order = ["utf-8", "cp1252"]
    elif name in _LATIN1:
        order = ["cp1252", "latin-1"]
    else:
        order = [name, "utf-8", "cp1252"]
    for codec in order:
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", "replace")


def parse_bytes(raw: bytes) -> EmailMessage:
    """The message tree (never raises on malformed input; defects are recorded on the parts)."""
    msg = email.message_from_bytes(raw, policy=_POLICY)
    assert isinstance(msg, EmailMessage)
    return msg


def header(msg: Message, name: str) -> str | None:
    """A header's decoded value (RFC 2047 words included), or None when absent."""
    try:
        value = msg.get(name)
        return None if value is None else clean(str(value)).strip()
    except Exception:  # the modern policy's parser gave up: decode the raw value leniently
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
        if raw is None:
            return None
        try:
            return clean(str(make_header(decode_header(str(raw))))).strip()
        except Exception:
            return clean(str(raw)).strip()


_ATOMS = r"[A-Za-z0-9_+-]+"
_DOT_ATOM_ADDRESS = rf"{_ATOMS}(?:\.{_ATOMS})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_SIMPLE_FROM = re.compile(rf"[ \t]*(?:((?:{_ATOMS} )*{_ATOMS})[ \t]*<({_DOT_ATOM_ADDRESS})>|({_DOT_ATOM_ADDRESS}))[ \t]*")


def _simple_from(msg: Message) -> tuple[str, str] | None:
    """(name, address) of a plain From value — `Ana Perez <ana@x.co>` or `ana@x.co`: ASCII words,
    single spaces, a dot-atom address — read with a regular expression; None for anything else,
    which the full RFC 5322 parser reads (~0.3 ms a message, most of the header work)."""
    raw = next((v for k, v in msg.raw_items() if k.lower() == "from"), None)
    if not isinstance(raw, str) or len(raw) > 600:
        return None
    match = _SIMPLE_FROM.fullmatch(raw)
    if match is None:
        return None
    name, bracketed, bare = match.groups()
    address = bracketed or bare
    if len(address) > 254:
        return None
    return (name or ""), address


# An RFC 2047 encoded word: it may stand in a display name, never in an address (RFC 2047 §5).
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# One mailbox whose address is in angle brackets: whatever precedes them is its display name,
# even when it looks like an address (`victim@evil.example <real@cliente.co>`).
_ONE_ANGLE = re.compile(r"^[^<>,]*<[ \t]*([^<>\s]+)[ \t]*>[ \t]*(?:\([^()]*\)[ \t]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HEADERS = HeaderRegistry()


def _addresses(value: str) -> tuple[Address, ...]:
    """The mailboxes of a `From` value, by the modern parser (raises when it gives up)."""
    parsed = _HEADERS("From", value)
    return tuple(getattr(parsed, "addresses", ()))


def _author(raw: str) -> tuple[str, str]:
    """(display name, address) of the first mailbox of a raw `From` value. The address is read
    from the address part only: encoded words are masked first, so nothing a decoded display
    name says (`Ana\r\nBcc: victim@evil.example`) can become the address."""
    masked = _ENCODED_WORD.sub("x", raw)
    one = _ONE_ANGLE.match(masked)
    if one:
        address, name = one.group(1), raw[:raw.index("<")].strip()
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
        name = name.strip().strip('"')
    else:
        try:
            mailboxes = [(a.display_name, a.addr_spec) for a in _addresses(masked)]
        except Exception:  # the modern parser gave up: the classic one is more lenient
            mailboxes = getaddresses([masked])
        address = next((a for _, a in mailboxes if a), "")
        try:  # the display name, decoded, when the value parses as it is
            name = next((a.display_name for a in _addresses(raw)), "")
        except Exception:
            name = ""
    return _CONTROL.sub(" ", clean(name)).strip(), clean(address).strip().strip("<>")


def sender(msg: Message, mail_from: str | None) -> tuple[str | None, str | None]:
    """(display name, address) of the author: the address part of the first mailbox of `From`,
    else the envelope sender; None for an address that does not look like one."""
    simple = _simple_from(msg)
    if simple is not None:
        name, address = simple
        return name or None, address.lower()
    raw = next((v for k, v in msg.raw_items() if k.lower() == "from"), None)
    name, address = _author(str(raw)) if raw is not None else ("", "")
    if not _ADDRESS.match(address) or len(address) > 254:
        address = (mail_from or "").strip().strip("<>")
    ok = bool(_ADDRESS.match(address)) and len(address) <= 254
    return (name or None), (address.lower() if ok else None)


def message_ids(value: str | None) -> list[str]:
    """The `<id>` tokens of a Message-ID, In-Reply-To or References value, in order."""
    return _MSGID.findall(value or "")


class _HtmlText(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: tags dropped, blocks on their own lines."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        return re.sub(r"<[^>]+>", " ", html)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _maybe_quoted(text: str) -> bool:
    """`_MAYBE_QUOTED.search(text)`, cheaper: the unanchored alternatives (~0.3 ms over 5 KB
    with IGNORECASE) run only when a plain substring test says one of them could match."""
    lowered = text.lower()
    if ">" in text or "escribi" in lowered or "wrote" in lowered or "---" in text:
        return _MAYBE_QUOTED.search(text) is not None
    return _QUOTE_HEADER_LINE.search(text) is not None


def strip_quoted(text: str) -> str:
    """The new part of a reply: quoted earlier mail cut in Spanish (Gmail and Outlook styles) and
    English. The whole text when nothing new would be left."""
    if not _maybe_quoted(text):
        return text.strip()
    match = _GMAIL_ES.search(text)
    cut = text[:match.start()] if match else text
    try:
        reply = _REPLY_PARSER.parse_reply(text=cut)
    except Exception:
        reply = cut
    reply = (reply or "").strip()
    return reply or text.strip()


def pqr_type_from_subject(subject: str | None) -> PqrType | None:
    """The type a subject names plainly ("Queja …", "Reclamo …", "Derecho de petición …")."""
    if not subject:
        return None
    plain = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode().lower()
    plain = _PREFIX.sub("", plain).strip()
    for pattern, pqr_type in _TYPES:
        if pattern.search(plain):
            return pqr_type
    return None


def _part_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _collect(part: Message, texts: list[str], htmls: list[str], files: list[FileData]) -> None:
    ctype = part.get_content_type()
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:
        disposition, filename = None, None
    if ctype in ("message/rfc822", "message/global") or (part.is_multipart() and filename):
        inner = part.get_payload()
        sub = inner[0] if isinstance(inner, list) and inner else None
        data = sub.as_bytes(policy=policy.SMTP) if isinstance(sub, Message) else _part_bytes(part)
        files.append(FileData(clean(filename or "message.eml"), ctype, data))
        return
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _collect(sub, texts, htmls, files)
        return
    data = _part_bytes(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = clean(decode_bytes(data, part.get_content_charset()))
        (texts if ctype == "text/plain" else htmls).append(text)
        return
    if not data and not filename:
        return
    files.append(FileData(clean(filename or f"part-{len(files) + 1}"), ctype, data))


def body_and_files(msg: Message) -> tuple[str, tuple[FileData, ...]]:
    """The message text (plain parts, else HTML parts as text) and its attachments."""
    texts: list[str] = []
    htmls: list[str] = []
    files: list[FileData] = []
    _collect(msg, texts, htmls, files)
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    if not text:
        text = "\n\n".join(html_to_text(h) for h in htmls if h.strip())
    return text.replace("\r\n", "\n").replace("\r", "\n"), tuple(files)


# Common words that tell Spanish from English in a few lines of a complaint. Most mail clients
# never set Content-Language, so the words decide when the header is missing.
_ES_WORDS = frozenset("el la los las de del que y en por para con una un mi me no es su se lo al "
                      "muy pero como favor gracias buenos buenas días".split())
_EN_WORDS = frozenset("the and to of i my is in for you with on was have not this it that be are "
                      "please thanks hello dear".split())
_WORD = re.compile(r"[a-záéíóúñü]+")


def language(msg: Message, text: str = "") -> str | None:
    """`en` or `es`: the declared Content-Language, else what the subject and the first lines of
    `text` are clearly written in; None when unsure (the configured language applies)."""
    declared = (header(msg, "Content-Language") or "").lower()
    for lang in ("es", "en"):
        if declared.startswith(lang):
            return lang
    words = _WORD.findall(f"{header(msg, 'Subject') or ''} {text[:1000]}".lower())
    es = sum(w in _ES_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    if en >= 3 and en > 2 * es:
        return "en"
    if es >= 3 and es > 2 * en:
        return "es"
    return None


def _subject(value: str | None) -> str | None:
    """The subject cut to what a PQR takes: a mail cannot be asked to shorten it, and refusing it
    would lose the PQR."""
    return None if value is None else fit(value, SUBJECT_MAX)


def to_incoming(msg: EmailMessage, raw: bytes, *, mail_from: str | None,
                received_at: dt.datetime) -> IncomingMessage:
    """The normalized inbound message. `sender` is `email:<address>` (`email:` alone when no
    usable address was found); `in_reply_to` holds References then In-Reply-To ids."""
    name, address = sender(msg, mail_from)
    own_ids = message_ids(header(msg, "Message-ID"))
    thread = message_ids(header(msg, "References")) + message_ids(header(msg, "In-Reply-To"))
    text, files = body_and_files(msg)
    body = strip_quoted(text) if text else ""
    return IncomingMessage(
        channel=CHANNEL, sender=f"email:{address or ''}", text=body,
        received_at=received_at, sender_name=fit(name, NAME_MAX) if name else name,
        subject=_subject(header(msg, "Subject")),
        external_id=own_ids[0][:998] if own_ids else None,
        in_reply_to=tuple(dict.fromkeys(thread[-50:])), language=language(msg, body),
        attachments=files, raw=raw, meta={"mail_from": mail_from})
