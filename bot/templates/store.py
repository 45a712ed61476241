"""The templates folder as the running bot sees it: read once, read again when a file changes, and
the values its placeholders take for one PQR. Also the override of the automatic texts
(`bot.pqrs.notices.AutoTexts`): a reserved file (`_acuse`, `_prorroga`, `_cierre`) replaces the
catalogue text; without one, or when it cannot be used, the catalogue text stays."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from bot.i18n import t
from bot.i18n.formats import format_local_date
from bot.templates.files import Folder, read_folder, template_files
from domain.calendar import BusinessCalendar
from domain.pqr import Pqr
from domain.pqr_types import PqrType
from domain.templates import AnswerTemplate, TemplateProblem

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


class TemplateStore:
    """The templates of `folder` (config `templates.dir`). `agents` names staff identities for
    `{agente}` (config `templates.agents`); anyone else is the team's catalogue name."""

    def __init__(self, folder: Path, calendar: BusinessCalendar, *,
                 agents: Mapping[str, str] | None = None) -> None:
        self.path = folder
        self.calendar = calendar
        self.agents: Mapping[str, str] = agents or {}
        self._signature: Signature | None = None
        self._folder = Folder()

    def folder(self) -> Folder:
        """The folder's templates and problems; the files are read again only when one of them
        was added, removed or changed since the last read (a stat per file)."""
        signature = self._stat()
        if signature != self._signature:
            self._folder = read_folder(self.path, tuple(PqrType))
            self._signature = signature
        return self._folder

    def _stat(self) -> Signature:
        out = []
        for path in template_files(self.path):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def answers(self, pqr_type: str | None = None) -> list[AnswerTemplate]:
        """The answer templates (reserved names left out) that fit `pqr_type` (all when None), by name."""
        found = self.folder().templates.values()
        return sorted((tpl for tpl in found if not tpl.reserved and (pqr_type is None or tpl.fits(pqr_type))),
                      key=lambda tpl: tpl.name)

    def get(self, name: str) -> AnswerTemplate | None:
        return self.folder().templates.get(name)

    def values(self, pqr: Pqr, lang: str, *, actor: str | None = None) -> dict[str, str]:
        """What each common placeholder says for `pqr`, in `lang` (dates as the bot writes them)."""
        agent = self.agents.get(actor or "") or self.agents.get(pqr.assignee or "") or t(lang, "templates.team")
        return {
            "nombre": pqr.customer.name,
            "radicado": pqr.radicado or "",
            "fecha_radicacion": format_local_date(pqr.received_at, lang, tz=self.calendar.tz),
            "fecha_vencimiento": format_local_date(pqr.due_at, lang, tz=self.calendar.tz),
            "tipo": t(lang, f"type.{pqr.type.value}").lower(),
            "agente": agent,
        }

    # -- bot.pqrs.notices.AutoTexts ------------------------------------------------------------------
    def text(self, name: str, pqr: Pqr, lang: str, **extra: str) -> str | None:
        """The reserved template `name` filled for `pqr` in `lang`; None when there is none or it
        cannot be used (the caller then writes the catalogue text; `templates check` says why)."""
        template = self.get(name)
        if template is None:
            return None
        try:
            return template.fill(lang, self.values(pqr, lang) | extra)
        except TemplateProblem as exc:
            log.warning("templates: %s not used for %s (%s); the catalogue text is sent", name, pqr.radicado, exc)
            return None


def folder_path(configured: str) -> Path:
    """Config `templates.dir`, relative to the working directory as the contract files are."""
    return Path(os.path.expanduser(configured))
