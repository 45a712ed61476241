"""Each migration's revision is its file's number and goes down to the one before, so
`storage.db.head_revision` knows this code's head without loading Alembic (every CLI command
checks it first)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage.db import MIGRATIONS_DIR, alembic_config, head_revision


def test_every_migration_is_named_by_its_revision_and_follows_the_one_before() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    files = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    revisions = {rev.revision: rev for rev in script.walk_revisions()}
    assert sorted(revisions) == [name[:4] for name in files]
    for number in revisions:
        down = revisions[number].down_revision
        assert down == (None if number == "0001" else f"{int(number) - 1:04d}")
    assert script.get_heads() == [head_revision()]
