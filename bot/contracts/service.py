"""The contract registry in force, shared by every running instance.

`reload` reads the contract files named in config.yaml, validates them and stores the documents as
a snapshot in the database; each instance keeps the parsed registry in memory and, on its next use,
compares the newest snapshot id (one tiny query) with the one it holds — so a `pqrbot contracts
reload` run from a shell is seen by every `pqrbot run` on the same database without a restart.
Until the first reload, the files are read directly (once per process)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from bot.contracts.files import ContractsError, load_files, parse_documents, read_files
from domain.contracts import ContractRegistry
from domain.terms import ContractTerms
from storage.ports import Database, UnitOfWork

log = logging.getLogger(__name__)


class ContractService:
    """Loads, reloads and answers questions about clients, contracts and areas."""

    def __init__(self, db: Database, files: tuple[str, ...] | list[str]) -> None:
        self.db = db
        self.files = tuple(files)
        self._version: int | None = None
        self._registry: ContractRegistry | None = None

    async def reload(self, *, now: dt.datetime) -> ContractRegistry:
        """Re-read and validate the files; store them as the snapshot in force. Raises
        `ContractsError` (nothing changes) when a file is unreadable or invalid."""
        docs = read_files(self.files)
        registry = parse_documents(docs)
        data: Any = json.loads(json.dumps([{"file": name, "doc": doc} for name, doc in docs], default=str))
        async with self.db.uow() as uow:
            version = await uow.contracts.put(data, source=", ".join(self.files), now=now)
            await uow.commit()
        self._version, self._registry = version, registry
        return registry

    async def registry_in(self, uow: UnitOfWork) -> ContractRegistry:
        """The registry in force, inside the caller's transaction."""
        version = await uow.contracts.latest_id()
        if self._registry is not None and version == self._version:
            return self._registry
        if version is None:
            registry = self._from_files()
        else:
            data = await uow.contracts.get(version)
            try:
                registry = parse_documents([(d["file"], d["doc"]) for d in data or []])
            except (ContractsError, KeyError, TypeError):
                log.exception("contract snapshot %s cannot be used; keeping the previous registry", version)
                registry = self._registry or ContractRegistry()
        self._version, self._registry = version, registry
        return registry

    def _from_files(self) -> ContractRegistry:
        try:
            return load_files(self.files)
        except ContractsError:
            # Filing must go on; operators see the problem with `pqrbot contracts reload`.
            log.exception("contract files cannot be used; PQRs follow the law only")
            return ContractRegistry()

    async def registry(self) -> ContractRegistry:
        """The registry in force (its own read-only transaction)."""
        async with self.db.uow(readonly=True) as uow:
            return await self.registry_in(uow)

    async def terms_for(self, uow: UnitOfWork, *, email: str | None,
                        telegram_user: int | None) -> ContractTerms | None:
        """The contract terms a sender's PQR follows (the `ContractLinker` of `PqrService`)."""
        if not email and telegram_user is None:
            return None
        registry = await self.registry_in(uow)
        return registry.terms_for(email=email, telegram_user=telegram_user)
