"""Contract files: loading, key-path errors, and which client a sender belongs to."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config
from bot.contracts.files import ContractsError, load_files, parse_documents
from domain.contracts import Segment
from domain.penalty import PenaltyCategory
from domain.pqr_types import PqrType
from domain.terms import Target, Unit

ROOT = Path(__file__).resolve().parents[2]

DOC = {
    "areas": [{"name": "laboratorio", "slack_channel": "C0LAB", "emails": ["lab@empresa.co"]}],
    "clients": [{
        "name": "Acme S.A.S.", "nit": "900111222-3", "segment": "B2B", "email_domains": ["acme.co"],
        "addresses": ["Compras.Acme@gmail.com"], "telegram_users": [2001],
        "contract": {"name": "ANS-ACME", "pauses_when_waiting": True,
                     "targets": {"reclamo": {"first_response": "4h", "resolution": "5d"},
                                 "queja": {"resolution": "16H"}},
                     "penalties": [{"category": "kpi_ans", "description": "fuera de ANS", "amount": "250000.75"}]},
    }, {"name": "Persona", "segment": "B2C"}],
}


def test_a_document_becomes_a_registry() -> None:
    reg = parse_documents([("acme.yaml", DOC)])
    acme = reg.client("acme s.a.s.")
    assert acme is not None and acme.segment is Segment.B2B and acme.contract == "ANS-ACME"
    assert acme.addresses == ("compras.acme@gmail.com",)
    contract = reg.contract_of(acme)
    assert contract is not None
    terms = contract.terms
    assert terms.resolution[PqrType.RECLAMO] == Target(5, Unit.DAYS)
    assert terms.resolution[PqrType.QUEJA] == Target(16, Unit.HOURS)
    assert terms.first_response[PqrType.RECLAMO] == Target(4, Unit.HOURS)
    assert terms.pauses_when_waiting is True
    assert contract.clauses[0].category is PenaltyCategory.KPI_ANS
    assert contract.clauses[0].amount == Decimal("250000.75")
    assert reg.area("LABORATORIO") is not None and reg.area("LABORATORIO").slack_channel == "C0LAB"  # type: ignore[union-attr]
    assert reg.contract_of(reg.client("Persona")) is None


def test_senders_are_matched_by_address_domain_subdomain_and_telegram_user() -> None:
    reg = parse_documents([("acme.yaml", DOC)])
    for kwargs in ({"email": "ana@acme.co"}, {"email": "ANA@Ventas.Acme.Co"}, {"email": "compras.acme@gmail.com"},
                   {"telegram_user": 2001}):
        terms = reg.terms_for(**kwargs)  # type: ignore[arg-type]
        assert terms is not None and terms.contract == "ANS-ACME", kwargs
    for kwargs in ({"email": "otro@gmail.com"}, {"email": "ana@notacme.co"}, {"telegram_user": 9}, {}):
        assert reg.terms_for(**kwargs) is None, kwargs  # type: ignore[arg-type]


@pytest.mark.parametrize("doc, expected", [
    ({"clients": [{"name": "X", "contract": {"name": "K", "targets": {"reclamo": {"resolution": "5 weeks"}}}}]},
     "f.yaml: clients.0.contract.targets.reclamo.resolution: Value error, use business hours or days"),
    ({"clients": [{"name": "X", "contract": {"name": "K", "targets": {"nope": {"resolution": "5d"}}}}]},
     "f.yaml: clients.0.contract.targets.nope.[key]"),
    ({"clients": [{"name": "X", "colour": "red"}]}, "f.yaml: clients.0.colour: unknown key"),
    ({"clients": [{"name": "X", "segment": "B2X"}]}, "f.yaml: clients.0.segment"),
    ({"clients": [{"name": "X", "addresses": ["not-an-address"]}]}, "f.yaml: clients.0.addresses"),
    ({"clients": [{"name": "X", "contract": {"name": "K", "penalties": [{"category": "kpi_ans", "amount": 1.5}]}}]},
     "f.yaml: clients.0.contract.penalties.0.amount: Value error, write the amount as a quoted string"),
    ({"clients": [{"name": "X"}, {"name": "x"}]}, "client 'x' is defined twice"),
    (["a list"], "f.yaml: the top level must be a mapping"),
])
def test_errors_name_the_file_and_the_key_path(doc: object, expected: str) -> None:
    with pytest.raises(ContractsError) as exc:
        parse_documents([("f.yaml", doc)])
    assert expected in str(exc.value)


def test_files_are_read_and_bad_files_are_reported(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ContractsError, match="missing.yaml: cannot read"):
        load_files([str(missing)])
    broken = tmp_path / "broken.yaml"
    broken.write_text("clients: [\n")
    with pytest.raises(ContractsError, match="broken.yaml: not valid YAML"):
        load_files([str(broken)])
    dup = tmp_path / "dup.yaml"
    dup.write_text("areas: [{name: laboratorio}]\n")
    with pytest.raises(ContractsError, match="area 'laboratorio' is defined twice"):
        load_files([str(ROOT / "contracts/example.yaml"), str(dup)])


def test_the_shipped_example_loads() -> None:
    reg = load_files([str(ROOT / "contracts/example.yaml")])
    assert [c.name for c in reg.clients] == ["Cliente S.A."]
    assert reg.terms_for(email="x@cliente.example.co") is not None


def test_config_takes_contract_files_and_accounting_and_refuses_unknown_keys() -> None:
    cfg = parse_config({"contracts": {"files": ["a.yaml"]},
                        "accounting": {"slack_channel": "C0CONTA", "emails": ["conta@empresa.co"]}})
    assert cfg.contracts.files == ("a.yaml",) and cfg.accounting.slack_channel == "C0CONTA"
    with pytest.raises(ConfigError, match="contracts.dir: unknown key"):
        parse_config({"contracts": {"dir": "x"}})
    shipped = parse_config(__import__("yaml").safe_load((ROOT / "config.yaml").read_text()))
    assert shipped.contracts.files == ()
