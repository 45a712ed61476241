"""Through the real SMTP server: the database file deleted under the running server answers 451
(not 250 into the unlinked file), said once in the log; over-long sender names and subjects are
stored cut, not refused."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import aiosmtplib
import pytest

from domain.limits import NAME_MAX, SUBJECT_MAX
from storage.db import SqlDatabase
from tests.channels.email.conftest import MailWorld, mail

RAD1 = "PQR-2026-000001"


def delete_database(db: SqlDatabase) -> Path:
    """What an operator's `rm data/pqrbot.db*` does under a running pqrbot."""
    assert db.file is not None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db.file}{suffix}").unlink(missing_ok=True)
    return db.file


async def test_a_deleted_database_answers_451_and_is_logged_once(world: MailWorld,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    code, answer = await world.send(mail())
    assert code == 250 and (await world.last()).radicado == RAD1
    path = delete_database(world.app.db)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING)
    for n in range(3):
        with pytest.raises(aiosmtplib.SMTPResponseException) as err:
            await world.send(mail(f"Queja {n}", message_id=f"<gone{n}@cliente.co>"))
        assert err.value.code == 451 and "Traceback" not in err.value.message
    noticed = [r for r in caplog.records if r.name == "storage.db"]
    assert len(noticed) == 1 and noticed[0].levelno == logging.ERROR and str(path) in noticed[0].getMessage()
    # The SMTP side: one traceback for the first refused message, then one line per message.
    smtp = [r for r in caplog.records if r.name == "channels.email.server"]
    assert [r.exc_info is not None for r in smtp] == [True, False, False]
    commits = [r for r in caplog.records if r.name == "bot.intake.group_commit" and r.levelno >= logging.WARNING]
    assert len(commits) == 1                     # the same failure again is not logged again
    assert not path.exists()          # nothing was written anywhere meanwhile


async def test_after_a_restore_the_server_still_refuses_until_restarted(world: MailWorld, tmp_path: Path) -> None:
    """Documented behaviour: a file put back is another file; only a new process opens it."""
    await world.send(mail())
    db = world.app.db
    assert isinstance(db, SqlDatabase) and db.file is not None
    backup = tmp_path / "backup.db"
    shutil.copy(db.file, backup)
    delete_database(db)
    shutil.copy(backup, db.file)
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await world.send(mail("Otra queja", message_id="<after@cliente.co>"))
    assert err.value.code == 451


async def test_a_long_sender_name_and_subject_are_stored_cut(any_world: MailWorld) -> None:
    name, subject = "Ana " + "Pérez" * 100, "Queja " + "muy larga " * 200
    code, answer = await any_world.send(mail(subject, sender=f"{name} <ana@cliente.co>"))
    assert code == 250 and (await any_world.last()).radicado == RAD1
    pqr = await any_world.pqr(RAD1)
    assert len(pqr.customer.name) == NAME_MAX and pqr.customer.name.startswith("Ana Pérez")
    assert len(pqr.subject) <= SUBJECT_MAX and pqr.subject.startswith("Queja muy larga")
    assert pqr.customer.email == "ana@cliente.co" and pqr.type.value == "queja"
