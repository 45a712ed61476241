"""Where the real-world material lives: `../shared/corpora` beside the repository (override with
PQRBOT_CORPORA). Tests that use it skip when it is absent; it is never copied into the repo."""

from __future__ import annotations

import os
from pathlib import Path

CORPORA = Path(os.environ.get("PQRBOT_CORPORA") or Path(__file__).resolve().parents[2] / "shared" / "corpora")
