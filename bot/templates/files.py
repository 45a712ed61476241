"""The templates folder (config `templates.dir`): one YAML file per template, `NAME.yaml` (or
`.yml`), read into `domain.templates.AnswerTemplate`s plus the problems found on the way.

A file is a mapping with `title` (text, or `{es: …, en: …}`), `types` (PQR type keys, or `all`),
`es` and `en` (the bodies); templates/README.md describes it for operators. Other files in the
folder (README.md) are ignored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from domain.pqr_types import PqrType
from domain.templates import LANGUAGES, NAME, AnswerTemplate, Reserved

SUFFIXES = (".yaml", ".yml")
KEYS = frozenset({"title", "types", *LANGUAGES})
ALL = ("all", "*", "todos", "todas")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: `code` names the catalogue text `templates.problem.<code>`."""

    file: str
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Folder:
    """What the folder holds: the templates that could be read, by name, and every problem."""

    templates: dict[str, AnswerTemplate] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def template_files(folder: Path) -> list[Path]:
    """The template files of `folder`, by name (none when the folder does not exist)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def read_folder(folder: Path, known_types: Iterable[str] = tuple(PqrType)) -> Folder:
    """Every file of `folder` read and checked. A file with a problem in its front matter (not
    YAML, a key missing or unknown) is left out; one whose bodies have a problem is kept (the
    problem is answered when it is used) and its problems are listed."""
    known = tuple(str(k) for k in known_types)
    templates: dict[str, AnswerTemplate] = {}
    problems: list[Problem] = []
    for path in template_files(folder):
        template, found = read_file(path, known)
        problems += found
        if template is not None:
            if template.name in templates:
                problems.append(Problem(path.name, "duplicate", template.name))
                continue
            templates[template.name] = template
    return Folder(templates, tuple(problems))


def read_file(path: Path, known_types: tuple[str, ...]) -> tuple[AnswerTemplate | None, list[Problem]]:
    """One file: the template (None when it cannot be read) and its problems."""
    name, file = path.stem, path.name
    if not NAME.fullmatch(name):
        return None, [Problem(file, "bad_name", name)]
    if name.startswith("_") and name not in set(Reserved):
        return None, [Problem(file, "unknown_reserved", ", ".join(Reserved))]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, "unreadable", type(exc).__name__)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(file, "not_yaml", f"{mark.line + 1}" if mark is not None else "?")]
    if not isinstance(data, dict):
        return None, [Problem(file, "not_mapping")]
    problems = [Problem(file, "unknown_key", str(k)) for k in data if k not in KEYS]
    titles = _titles(data.get("title"), name)
    if titles is None:
        problems.append(Problem(file, "no_title"))
    types, bad = _types(data.get("types", "all"))
    if bad:
        problems.append(Problem(file, "bad_types"))
    bodies = {lang: data[lang] for lang in LANGUAGES if isinstance(data.get(lang), str)}
    problems += [Problem(file, "not_text", lang) for lang in LANGUAGES
                 if lang in data and data[lang] is not None and not isinstance(data[lang], str)]
    if problems:
        return None, problems
    assert titles is not None
    template = AnswerTemplate(name=name, titles=titles, bodies=bodies, types=types)
    problems += [Problem(file, p.code, p.detail) for p in template.problems(known_types)]
    return template, problems


def _titles(value: Any, name: str) -> dict[str, str] | None:
    if isinstance(value, str) and value.strip():
        return {lang: value.strip() for lang in LANGUAGES}
    if isinstance(value, dict) and value and all(isinstance(v, str) and v.strip() for v in value.values()):
        return {str(k): str(v).strip() for k, v in value.items()}
    return None


def _types(value: Any) -> tuple[frozenset[str] | None, bool]:
    """(the type keys, or None for every type; whether the value was unreadable)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ALL):
        return None, False
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None, True
    if any(v.strip().lower() in ALL for v in value):
        return None, False
    return frozenset(v.strip().lower() for v in value), False
