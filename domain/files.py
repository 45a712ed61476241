"""A file that came with a message or as evidence: its name, declared type and bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class FileData:
    """The one file type of every layer (inbound attachments, stored attachments, penalty
    evidence); `sha256` and `size` are computed from `data`."""

    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)
