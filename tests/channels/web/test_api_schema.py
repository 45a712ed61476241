"""schemathesis against /api/openapi.json on the live test server (the real app under uvicorn, on
SQLite, in a thread of its own: schemathesis calls are synchronous), with a manager's token: for
every /api/v1 operation, a bounded, deterministic set of generated requests gets no 5xx and
answers as the schema says."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.checks import not_a_server_error, response_schema_conformance

from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from tests.channels.web.conftest import BOG, T0, make_world

pytestmark = pytest.mark.slow

EXAMPLES = 20                  # per operation (and phase): keeps the whole run well under a minute
SEEDED = "PQR-2026-000001"
CALLS: Counter[str] = Counter()


@dataclass(frozen=True)
class LiveApi:
    base: str
    headers: dict[str, str]


def _serve(folder: Path, ready: threading.Event, box: dict[str, Any]) -> None:
    """Run the web on its own loop until `box["stop"]` is set; a seeded PQR (PQR-2026-000001, the
    example in the schema) gives the operations on one PQR something to find."""

    async def main() -> None:
        db = SqlDatabase(f"sqlite+aiosqlite:///{folder / 'api.db'}")
        try:
            await db.upgrade()
            async for w in make_world(db):
                secret = await w.web.services.access.create_token("schemathesis", "manager", actor="cli:operator",
                                                                  now=T0)
                await w.app.service.file(FilingRequest(pqr_type=PqrType.QUEJA, channel="phone", name="Ana",
                                                       subject="Cobro doble", body="Texto", actor="cli:operator",
                                                       received_at=T0.astimezone(BOG), email="ana@example.co"))
                box.update(base=w.base, token=secret, loop=asyncio.get_running_loop(), stop=asyncio.Event())
                ready.set()
                await box["stop"].wait()
        finally:
            await db.dispose()
            ready.set()

    asyncio.run(main())


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    ready, box = threading.Event(), dict[str, Any]()
    thread = threading.Thread(target=_serve, args=(tmp_path_factory.mktemp("api"), ready, box), daemon=True)
    thread.start()
    assert ready.wait(60) and "base" in box, "the web did not start"
    try:
        yield LiveApi(base=box["base"], headers={"Authorization": f"Bearer {box['token']}"})
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(30)
        print(f"\nschemathesis: {len(CALLS)} operations, {sum(CALLS.values())} requests: {dict(CALLS)}")


def strategy(operation: Any) -> Any:
    """Generated requests, valid and invalid, half of those on one PQR aimed at the seeded one."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    parts = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if "{radicado}" in operation.path:
        parts += [operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                        path_parameters={"radicado": SEEDED})]
    return st.one_of(*parts, *operation.get_strategies_from_examples())


def test_the_api_answers_as_its_schema_says(live_api: LiveApi) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api.base}/api/openapi.json").include(path_regex="^/api/v1/")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) == 6, results      # an Err: a part of the schema does not load
    failures: dict[str, str] = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=strategy(operation))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            CALLS[label] += 1
            case.call_and_validate(base_url=live_api.base, headers=live_api.headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:     # every operation is tried, every failure reported
            failures[label] = f"{type(exc).__name__}: {exc}"
    assert failures == {}
