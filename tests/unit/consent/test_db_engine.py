"""Clearance from the database: the case files put into the registry, and the index against the engine.

Two checks, from two sides:

- every example case that the registry can hold (no own daily rate, no strike) is written as
  records, asked as a ClearanceQuery, and must give the expected decision, reasons and payment;
- on random worlds (performers alive and dead, productions under every agreement and none,
  replicas with and without scan sessions, grants with every flag, revocations, scans), the
  in-memory ClearanceIndex must give exactly the report ``evaluate`` gives through the pure
  engine, for random queries of every action.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Account, Role
from likeness_ledger.consent.cases import Case, load_case
from likeness_ledger.consent.clearance import case_rate_table, clear
from likeness_ledger.consent.engine import ClearanceIndex
from likeness_ledger.consent.models import (
    ConsentGrant,
    ConsentScope,
    GrantRevocation,
    GrantUse,
    Representation,
    Signer,
)
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.consent.services import evaluate
from likeness_ledger.errors import Error
from likeness_ledger.registry.models import (
    Performer,
    PerformerCategory,
    Producer,
    Production,
    ProductionType,
    ReplicaAsset,
    ReplicaKind,
    ReplicaMedia,
    ScanSession,
    ScanStatus,
)
from likeness_ledger.runtime import Runtime
from likeness_ledger.vault.models import VaultBlob

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "examples"
BLOB = "0" * 64


def _account(session: Session) -> uuid.UUID:
    account = Account(name=f"recorder-{uuid.uuid4().hex[:8]}", role=Role.ADMIN)
    session.add(account)
    if session.get(VaultBlob, BLOB) is None:
        session.add(VaultBlob(sha256=BLOB, size=0))
    session.flush()
    return account.id


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def put_case(session: Session, case: Case) -> ClearanceQuery:
    """Write a case's performer, productions, replica, consents and scan facts as records."""
    recorder = _account(session)
    producers: dict[str, uuid.UUID] = {}
    productions: dict[str, uuid.UUID] = {}
    names = set(case.productions) | {c.production for c in case.consents}
    if case.replica is not None and case.replica.created_for:
        names.add(case.replica.created_for)
    for name in sorted(names):
        info = case.productions.get(name)
        producer_name = info.producer if info else "someone"
        if producer_name not in producers:
            producer = Producer(name=f"{producer_name}-{uuid.uuid4().hex[:6]}")
            session.add(producer)
            session.flush()
            producers[producer_name] = producer.id
        production = Production(
            producer_id=producers[producer_name],
            title=info.title if info else name,
            type=ProductionType(info.type if info else "theatrical"),
            agreement=case.agreement,
            jurisdiction=case.jurisdiction,
        )
        session.add(production)
        session.flush()
        productions[name] = production.id
    performer = Performer(
        legal_name="P",
        category=PerformerCategory(case.performer.category),
        born_on=case.performer.born,
        died_on=case.performer.died,
    )
    session.add(performer)
    session.flush()
    asset_id = None
    if case.replica is not None:
        scan_id = None
        if case.replica.created_for:
            scan = ScanSession(
                production_id=productions[case.replica.created_for],
                performer_id=performer.id,
                scheduled_at=_at(case.replica.created_on),
                status=ScanStatus.COMPLETED,
            )
            session.add(scan)
            session.flush()
            scan_id = scan.id
        asset = ReplicaAsset(
            performer_id=performer.id,
            kind=ReplicaKind(case.replica.kind),
            media=ReplicaMedia(case.replica.media[0]),
            scan_session_id=scan_id,
            sha256=BLOB,
            size=0,
            content_type="application/octet-stream",
            created_at=_at(case.replica.created_on),
        )
        session.add(asset)
        session.flush()
        asset_id = asset.id
    engaged = [f for f in case.facts if f.type == "engaged"]
    notices = [f for f in case.facts if f.type == "scan_notice"]
    for fact in case.facts:
        if fact.type == "scan_scheduled":
            session.add(
                ScanSession(
                    production_id=productions[case.request.production],
                    performer_id=performer.id,
                    engaged_at=engaged[0].at if engaged else None,
                    notice_sent_at=notices[0].at if notices else None,
                    scheduled_at=fact.at,
                    scan_only_call=fact.scan_only_call,
                )
            )
    for consent in case.consents:
        grant = ConsentGrant(
            performer_id=performer.id,
            scope=ConsentScope(consent.scope),
            replica_asset_id=asset_id if consent.replica is not None else None,
            production_id=productions[consent.production],
            specific=consent.specific,
            separately_signed=consent.separately_signed,
            signed_by=Signer(consent.signed_by),
            signed_on=consent.signed_on,
            valid_from=consent.valid_from,
            expires_on=consent.expires_on,
            representation=Representation(consent.representation),
            recorded_by=recorder,
            uses=[GrantUse(position=i, key=u.key, description=u.description) for i, u in enumerate(consent.uses)],
        )
        session.add(grant)
        session.flush()
        if consent.revoked_on is not None:
            session.add(GrantRevocation(grant_id=grant.id, effective_on=consent.revoked_on, revoked_by=recorder))
    session.flush()
    request = case.request
    return ClearanceQuery(
        action=request.action,
        performer_id=performer.id,
        production_id=productions[request.production],
        on=request.on,
        role=request.role,
        replaces_in_person_work=request.replaces_in_person_work,
        asset_id=asset_id if request.replica is not None else None,
        use=request.use,
        estimated_days=request.estimated_days,
        alteration=request.alteration,
    )


def _registry_can_hold(case: Case) -> bool:
    # The registry keeps no performer's own daily rate and no strikes (see the report).
    return case.performer.daily_rate is None and not any(f.type == "strike" for f in case.facts)


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_case_from_the_registry(runtime: Runtime, path: Path) -> None:
    case = load_case(path)
    if not _registry_can_hold(case):
        pytest.skip("the registry keeps no own daily rate or strike")
    assert case.expect is not None
    # The case's scale rows stand in for the built-in table: the registry keeps no per-case rates.
    rates = case_rate_table(tuple(case.rates))
    with runtime.db.write() as session:
        query = put_case(session, case)
    with runtime.db.read() as session:
        decision = evaluate(session, query, rates=rates, case_id=case.id)
        index = ClearanceIndex.load(session)
    assert decision.decision == case.expect.decision
    assert sorted(decision.codes) == sorted(case.expect.reasons)
    if case.expect.payment_total is not None:
        assert decision.payment_total == case.expect.payment_total
    assert decision.codes == clear(case).codes
    assert index.evaluate(query, rates=rates, case_id=case.id).to_report() == decision.to_report()


def test_most_examples_fit_the_registry() -> None:
    held = [p for p in EXAMPLE_FILES if _registry_can_hold(load_case(p))]
    assert len(held) >= len(EXAMPLE_FILES) - 2


# --- random worlds -------------------------------------------------------------------------------

AGREEMENTS = [
    None,
    "sag-aftra-tv-theatrical-2023",
    "sag-aftra-tv-theatrical-2026",
    "sag-aftra-interactive-2025",
    "sag-aftra-commercials-2025",
]
PLACES = [None, "US-CA", "US-NY", "US-IL", "US-TN", "DE", "FR"]
KEYS = ["crowd", "trailer", "promo", "dub"]
ALTERATIONS = ["cosmetic", "timing", "substantive", "dialogue_adjustment"]
START = date(2024, 1, 1)


def _day(rng: random.Random, span: int = 1400) -> date:
    return START + timedelta(days=rng.randrange(span))


def build_world(session: Session, rng: random.Random) -> list[ClearanceQuery]:
    """A random registry, and random queries about it."""
    recorder = _account(session)
    producers = []
    for i in range(2):
        producer = Producer(name=f"studio-{i}-{uuid.uuid4().hex[:6]}")
        session.add(producer)
        producers.append(producer)
    session.flush()
    productions = []
    for i in range(4):
        production = Production(
            producer_id=rng.choice(producers).id,
            title=f"prod {i}",
            type=rng.choice(list(ProductionType)),
            agreement=rng.choice(AGREEMENTS),
            jurisdiction=rng.choice(PLACES),
        )
        session.add(production)
        productions.append(production)
    performers = []
    for i in range(4):
        died = _day(rng) if rng.random() < 0.25 else None
        performer = Performer(
            legal_name=f"p{i}",
            category=rng.choice(list(PerformerCategory)),
            born_on=date(1950, 1, 1),
            died_on=died,
        )
        session.add(performer)
        performers.append(performer)
    session.flush()
    assets = []
    for performer in performers:
        for _ in range(rng.randrange(1, 3)):
            scan_id = None
            if rng.random() < 0.7:
                scan = ScanSession(
                    production_id=rng.choice(productions).id,
                    performer_id=performer.id,
                    scheduled_at=_at(_day(rng)),
                    status=ScanStatus.COMPLETED,
                )
                session.add(scan)
                session.flush()
                scan_id = scan.id
            asset = ReplicaAsset(
                performer_id=performer.id,
                kind=rng.choice(list(ReplicaKind)),
                media=rng.choice(list(ReplicaMedia)),
                scan_session_id=scan_id,
                sha256=BLOB,
                size=0,
                content_type="x/y",
                created_at=_at(_day(rng)),
            )
            session.add(asset)
            assets.append(asset)
        # Scheduled scans for creation questions: notice on time, late, or missing.
        for _ in range(rng.randrange(0, 3)):
            at = _at(_day(rng)) + timedelta(hours=rng.randrange(24))
            session.add(
                ScanSession(
                    production_id=rng.choice(productions).id,
                    performer_id=performer.id,
                    engaged_at=at - timedelta(hours=rng.choice([10, 30, 100, 400])) if rng.random() < 0.7 else None,
                    notice_sent_at=at - timedelta(hours=rng.choice([5, 47, 48, 72])) if rng.random() < 0.8 else None,
                    scheduled_at=at,
                    scan_only_call=rng.random() < 0.5,
                    status=rng.choice([ScanStatus.SCHEDULED, ScanStatus.COMPLETED, ScanStatus.CANCELLED]),
                )
            )
    session.flush()
    for _ in range(30):
        performer = rng.choice(performers)
        mine = [a for a in assets if a.performer_id == performer.id]
        scope = rng.choice(list(ConsentScope))
        replica = rng.choice(mine).id if scope is ConsentScope.USE or rng.random() < 0.3 else None
        signed = _day(rng)
        valid_from = signed + timedelta(days=rng.randrange(-30, 60)) if rng.random() < 0.3 else None
        expires = (valid_from or signed) + timedelta(days=rng.randrange(0, 500)) if rng.random() < 0.5 else None
        grant = ConsentGrant(
            performer_id=performer.id,
            scope=scope,
            replica_asset_id=replica,
            production_id=rng.choice(productions).id,
            specific=rng.random() < 0.8,
            separately_signed=rng.random() < 0.8,
            signed_by=rng.choice(list(Signer)),
            signed_on=signed,
            valid_from=valid_from,
            expires_on=expires,
            representation=rng.choice(list(Representation)),
            recorded_by=recorder,
            uses=[
                GrantUse(position=i, key=k, description=f"{k} in scenes {i}")
                for i, k in enumerate(rng.sample(KEYS, rng.randrange(0, 3)))
            ],
        )
        session.add(grant)
        session.flush()
        if rng.random() < 0.2:
            session.add(GrantRevocation(grant_id=grant.id, effective_on=_day(rng), revoked_by=recorder))
    session.flush()
    queries = []
    for _ in range(150):
        performer = rng.choice(performers)
        mine = [a for a in assets if a.performer_id == performer.id]
        action = rng.choice(["create", "use", "use", "alter"])
        asset = rng.choice(mine if rng.random() < 0.95 else assets).id
        queries.append(
            ClearanceQuery(
                action=action,
                performer_id=performer.id,
                production_id=rng.choice(productions).id,
                on=_day(rng, 1800),
                role=rng.choice(["background", "principal"]),
                replaces_in_person_work=rng.random() < 0.6,
                asset_id=asset if action != "create" or rng.random() < 0.2 else None,
                use=rng.choice([*KEYS, "other"]) if action == "use" else None,
                estimated_days=rng.choice([None, 0, 1, 3, 10]),
                alteration=rng.choice(ALTERATIONS) if action == "alter" else None,
            )
        )
    return queries


def _outcome(call) -> object:  # type: ignore[no-untyped-def]
    try:
        return call().to_report()
    except Error as error:
        return (type(error).__name__, error.message)


@pytest.mark.parametrize("seed", range(6))
def test_index_decides_exactly_as_the_engine(runtime: Runtime, seed: int) -> None:
    rng = random.Random(seed)
    with runtime.db.write() as session:
        queries = build_world(session, rng)
    allowed = denied = 0
    with runtime.db.read() as session:
        index = ClearanceIndex.load(session)
        for query in queries:
            expected = _outcome(lambda q=query: evaluate(session, q, case_id="q"))
            assert _outcome(lambda q=query: index.evaluate(q, case_id="q")) == expected, query
            if isinstance(expected, dict):
                allowed += expected["decision"] == "allow"
                denied += expected["decision"] == "deny"
    # The worlds are varied enough to exercise both answers.
    assert allowed > 0
    assert denied > 0
