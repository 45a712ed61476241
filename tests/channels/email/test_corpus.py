"""Every real-world message of ../shared/corpora/email goes through the server: each one is filed,
joined, kept aside with a reason — and the server keeps serving. Skipped when the corpus is absent."""

from __future__ import annotations


import aiosmtplib
import pytest

from tests.channels.email.conftest import MailWorld, mail
from tests.corpora import CORPORA

CORPUS = CORPORA / "email"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "INDEX.tsv") if CORPUS.is_dir() else []

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FILES, reason=f"no email corpus at {CORPUS}")]


async def test_every_corpus_message_is_filed_joined_or_kept_aside(sqlite_database: object) -> None:
    from tests.channels.email.conftest import make_world
    async for world in make_world(sqlite_database, rate_limit={"max_messages": 1000, "window_minutes": 1}):  # type: ignore[arg-type]
        await _run(world)


async def _run(world: MailWorld) -> None:
    answers: dict[str, str] = {}
    for path in FILES:
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        try:
            code, text = await world.send(data, mail_from="corpus@cliente.co")
        except aiosmtplib.SMTPException as exc:
            pytest.fail(f"{path.relative_to(CORPUS)}: {exc}")
        assert code == 250, path
        answers[str(path.relative_to(CORPUS))] = text
    counts = await world.counts()
    assert sum(counts.values()) == len(FILES)
    assert set(counts) <= {"filed", "joined", "duplicate", "kept_aside"}
    assert all(r.reason for r in await world.raws("kept_aside"))
    assert counts.get("kept_aside", 0) >= 10            # DSNs and auto-replies are in the corpus
    # and the server still serves
    code, text = await world.send(mail(message_id="<after-corpus@cliente.co>"), mail_from="ana@cliente.co")
    assert code == 250 and "PQR-" in text
