"""A folder this process cannot create files in, for the tests of unwritable data folders."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def unwritable_folder(folder: Path) -> Iterator[Path]:
    """Create `folder` and keep it unwritable while in use. The tests run as root here, where
    chmod stops nothing: an immutable folder (chattr +i) stops root too. Skips where neither works."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a folder unwritable")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)
