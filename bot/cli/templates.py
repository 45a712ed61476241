"""`pqrbot templates list|check` (DESIGN.md's CLI): the answer templates of config `templates.dir`.
`list --json` prints `[{"name", "title", "types", "languages"}]` (`types` null: every type);
`check` prints one line per problem and exits 1 when there is any."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import language, print_json, refuse
from bot.i18n import t
from bot.templates.files import read_folder
from bot.templates.store import TemplateStore, folder_path
from domain.pqr_types import PqrType
from domain.templates import LANGUAGES, AnswerTemplate

if TYPE_CHECKING:
    from bot.bootstrap import App


def add_parsers(sub: Any) -> None:
    """Add `templates` to the top-level subparsers."""
    tpl = sub.add_parser("templates", help="answer templates (config templates.dir)")
    ts = tpl.add_subparsers(dest="templates_command", required=True)
    lst = ts.add_parser("list", help="the answer templates, those that fit a PQR type with --type")
    lst.add_argument("--type", choices=[k.value for k in PqrType])
    lst.add_argument("--json", action="store_true")
    ts.add_parser("check", help="validate every template file; one line per problem, exit 1 if any")


def template_json(template: AnswerTemplate, lang: str) -> dict[str, Any]:
    """A template as `templates list --json` shows it."""
    return {"name": template.name, "title": template.title(lang),
            "types": sorted(template.types) if template.types is not None else None,
            "languages": [lang for lang in LANGUAGES if (template.bodies.get(lang) or "").strip()]}


async def templates(app: App, args: argparse.Namespace) -> None:
    """`pqrbot templates list [--type TYPE] [--json]`, `pqrbot templates check`."""
    lang = language(app.config.language)
    store = app.templates or TemplateStore(folder_path(app.config.templates.dir), app.service.calendar)
    if args.templates_command == "check":
        folder = read_folder(store.path)
        for p in folder.problems:
            problem = t(lang, f"templates.problem.{p.code}", detail=p.detail)
            print(t(lang, "cli.templates_line", file=str(store.path / p.file), problem=problem))
        if folder.problems:
            refuse(t(lang, "cli.templates_failed", dir=str(store.path), count=len(folder.problems)))
        print(t(lang, "cli.templates_ok", dir=str(store.path), count=len(folder.templates)))
        return
    found = store.answers(args.type)
    if args.json:
        print_json([template_json(tpl, lang) for tpl in found])
        return
    for tpl in found:
        types = ", ".join(sorted(tpl.types)) if tpl.types is not None else "all"
        print(f"{tpl.name}\t{tpl.title(lang)}\t{types}\t{','.join(template_json(tpl, lang)['languages'])}")
