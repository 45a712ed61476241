"""The attachment limits (which of a message's files are taken) and how a refused file is told."""

from __future__ import annotations

from bot.config import parse_config
from bot.i18n.formats import format_file_size
from bot.pqrs.attachments import customer_notice, not_taken_line, screen, staff_note
from domain.attachments import AttachmentLimits, FileRefusal, NotTaken
from domain.files import FileData

KB, MB = 1024, 1024 * 1024


def test_each_file_is_judged_in_order_and_a_refused_one_uses_nothing_up() -> None:
    limits = AttachmentLimits(max_files=2, max_file_bytes=5 * KB, max_message_bytes=8 * KB)
    verdicts = limits.screen([6 * KB, 4 * KB, 5 * KB, 3 * KB, 1])
    assert verdicts == [(FileRefusal.FILE_TOO_BIG, 5 * KB), None, (FileRefusal.MESSAGE_TOO_BIG, 8 * KB), None,
                        (FileRefusal.TOO_MANY, 2)]
    assert limits.screen([None, None, None]) == [None, None, (FileRefusal.TOO_MANY, 2)]   # sizes not known yet
    assert AttachmentLimits(max_files=0).screen([1]) == [(FileRefusal.TOO_MANY, 0)]


def test_screen_keeps_the_files_taken_and_says_why_for_the_others() -> None:
    files = [FileData("a.pdf", "application/pdf", b"a" * 10), FileData("b.pdf", "application/pdf", b"b" * 30)]
    taken, refused = screen(files, AttachmentLimits(max_file_bytes=20))
    assert taken == files[:1]
    assert refused == [NotTaken("b.pdf", FileRefusal.FILE_TOO_BIG, size=30, limit=20)]


def test_the_limits_come_from_config_with_defaults() -> None:
    assert parse_config({}).attachment_limits() == AttachmentLimits(10, 10 * MB, 25 * MB)
    assert parse_config({"attachments": {"max_files": 3}}).attachment_limits().max_files == 3


def test_refusals_read_well_in_both_languages() -> None:
    big = NotTaken("escaneo.tiff", FileRefusal.FILE_TOO_BIG, size=12 * MB, limit=10 * MB)
    many = NotTaken("d.txt", FileRefusal.TOO_MANY, size=5, limit=10)
    telegram = NotTaken("video.mp4", FileRefusal.PLATFORM_LIMIT, size=None, limit=20 * MB)
    gone = NotTaken("x" * 300, FileRefusal.UNAVAILABLE)
    assert not_taken_line("es", big) == "escaneo.tiff (12 MB): supera el máximo de 10 MB por archivo"
    assert not_taken_line("en", big) == "escaneo.tiff (12 MB): over the limit of 10 MB per file"
    assert not_taken_line("es", many) == "d.txt: el mensaje ya trae el máximo de archivos (10)"
    assert not_taken_line("en", telegram) == \
        "video.mp4 (size unknown): Telegram does not let bots download files over 20 MB"
    assert len(not_taken_line("es", gone)) < 250 and not_taken_line("es", gone).endswith("…: no se pudo descargar")
    notice = customer_notice("en", [big, many], AttachmentLimits())
    assert notice.startswith("We could not take these files:\n• escaneo.tiff (12 MB)")
    assert "\n• d.txt: " in notice and "(up to 10 MB per file)" in notice
    assert staff_note("es", [big], channel="telegram").startswith("Adjuntos no recibidos (telegram):\n• escaneo")


def test_sizes_are_written_by_babel_for_each_language() -> None:
    assert [format_file_size(n, "es") for n in (512, 1536, 1288 * KB, 10 * MB)] == \
        ["512 byte", "1,5 kB", "1,3 MB", "10 MB"]
    assert [format_file_size(n, "en") for n in (1536, 1288 * KB)] == ["1.5 kB", "1.3 MB"]
