"""Every real-world message of ../shared/corpora/email goes through the server, forwarded (the
envelope sender is a company mailbox, never the null path): each bounce, delivery or feedback
report and auto-reply is kept aside, list mail stays aside as before, everything else files,
joins or is a resend — and the server keeps serving. Skipped when the corpus is absent."""

from __future__ import annotations

import aiosmtplib
import pytest

from tests.channels.email.conftest import MailWorld, mail
from tests.corpora import CORPORA

CORPUS = CORPORA / "email"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "INDEX.tsv") if CORPUS.is_dir() else []

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FILES, reason=f"no email corpus at {CORPUS}")]

# Reviewed one by one (subject, sender, content type): mail systems and autoresponders writing.
AUTOMATIC = {
    "cpython-test_email/msg_05.txt", "cpython-test_email/msg_16.txt", "cpython-test_email/msg_25.txt",
    "cpython-test_email/msg_43.txt",
    "mailgun-flanker/bounce/broken-mime.eml", "mailgun-flanker/bounce/delayed-broken.eml",
    "mailgun-flanker/bounce/gmail-invalid-address.eml", "mailgun-flanker/bounce/mailbox-full.eml",
    "mailgun-flanker/bounce/no-mx.eml", "mailgun-flanker/bounce/office365.eml", "mailgun-flanker/bounce/zed.eml",
    "mailgun-flanker/complaints/aol.eml", "mailgun-flanker/complaints/yahoo.eml",
    "mailgun-flanker/disposition-notification.eml",
    "mikel-mail/mime_emails/raw_email_with_mimepart_without_content_type.eml",
    "mikel-mail/multipart_report_emails/multi_address_bounce1.eml",
    "mikel-mail/multipart_report_emails/multipart_report_multiple_status.eml",
    "mikel-mail/multipart_report_emails/report_422.eml",
    "sisimai-set-of-emails/bsd/arf-01.eml",
    *(f"sisimai-set-of-emails/bsd/lhost-{name}.eml" for name in (
        "amazonses-01", "exchange2007-06", "exchange2007-07", "exim-01", "gmail-01", "googlegroups-07",
        "mailru-01", "office365-01", "postfix-01", "qmail-01", "sendmail-01")),
    *(f"sisimai-set-of-emails/bsd/rfc3834-0{n}.eml" for n in range(1, 7)),
    "sisimai-set-of-emails/dos/rfc3834-01.eml", "sisimai-set-of-emails/mac/rfc3834-01.eml",
    "spamscope-mail-parser/mail_malformed_2.eml",
}
# Mailing-list and bulk mail (List-Id, Precedence bulk/list/junk): aside before this change too.
LISTS = {
    "cpython-test_email/msg_32.txt", "cpython-test_email/msg_33.txt",
    "mailgun-flanker/apache-message-news-mime.eml", "mailgun-flanker/from-encoding.eml",
    "mailgun-flanker/message-external-body.eml", "mikel-mail/error_emails/bad_date_header.eml",
    "mikel-mail/error_emails/empty_in_reply_to.eml", "spamscope-mail-parser/mail_test_13.eml",
    "spamscope-mail-parser/mail_test_6.eml",
}


async def test_bounces_and_auto_replies_are_kept_aside_and_the_rest_files(sqlite_database: object) -> None:
    from tests.channels.email.conftest import make_world
    async for world in make_world(sqlite_database, rate_limit={"max_messages": 1000, "window_minutes": 1}):  # type: ignore[arg-type]
        await _run(world)


async def _run(world: MailWorld) -> None:
    outcome: dict[str, tuple[str, str | None]] = {}
    for path in FILES:
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        try:
            code, _ = await world.send(data, mail_from="buzon@empresa.co")
        except aiosmtplib.SMTPException as exc:
            pytest.fail(f"{path.relative_to(CORPUS)}: {exc}")
        assert code == 250, path
        newest = (await world.raws())[0]
        outcome[str(path.relative_to(CORPUS))] = (newest.disposition, newest.reason)
    assert AUTOMATIC | LISTS <= set(outcome), "the corpus changed: review the lists"
    wrong = {p: o for p, o in outcome.items() if (o[0] == "kept_aside") != (p in AUTOMATIC | LISTS)}
    assert wrong == {}
    assert all(reason for disposition, reason in outcome.values() if disposition == "kept_aside")
    assert {d for d, _ in outcome.values()} <= {"filed", "joined", "duplicate", "kept_aside"}
    # and the server still serves
    code, text = await world.send(mail(message_id="<after-corpus@cliente.co>"), mail_from="ana@cliente.co")
    assert code == 250 and ((await world.last()).radicado or "").startswith("PQR-")
