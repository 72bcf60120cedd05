"""Keeping the in-memory clearance index fresh across processes, without reloading it.

"Another process" is a second :class:`Database` on the same file: its commits fire none of this
process's session events for the first one, and reach the index only through the transparency log
(or, for writes made with logging off, through the full-reload safety nets).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from likeness_ledger.consent import services as svc
from likeness_ledger.consent.engine import ClearanceIndex
from likeness_ledger.consent.models import ConsentGrant, ConsentScope, GrantRevocation, GrantUse, Representation, Signer
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.consent.services import evaluate
from likeness_ledger.db import Database
from likeness_ledger.registry.models import Performer, Production, ReplicaAsset, ScanSession, ScanStatus
from likeness_ledger.runtime import Runtime

from .test_db_engine import AGREEMENTS, KEYS, PLACES, _account, _at, _day, _outcome, build_world


@pytest.fixture
def other(runtime: Runtime) -> Iterator[Database]:
    """A second connection to the same database, as another process would open it."""
    db = Database(runtime.db.url)
    yield db
    db.dispose()


def _state(index: ClearanceIndex) -> tuple[Any, ...]:
    return (
        index.performers,
        index.productions,
        index.replicas,
        index.grants,
        index.by_production,
        index.scans,
        index.revocation_count,
    )


def _grant(session: Session, performer: uuid.UUID, production: uuid.UUID, replica: uuid.UUID | None) -> ConsentGrant:
    grant = ConsentGrant(
        performer_id=performer,
        scope=ConsentScope.USE,
        replica_asset_id=replica,
        production_id=production,
        specific=True,
        separately_signed=True,
        signed_by=Signer.PERFORMER,
        signed_on=date(2025, 1, 1),
        representation=Representation.UNION,
        recorded_by=_account(session),
        uses=[GrantUse(position=0, key="night-match", description="the night match, scenes 50-52")],
    )
    session.add(grant)
    session.flush()
    return grant


def _world(runtime: Runtime) -> tuple[ClearanceQuery, ClearanceIndex]:
    """A small registry and a covered query about it; the index loaded over it."""
    with runtime.db.write() as session:
        build_world(session, random.Random(99))
        asset = session.scalars(select(ReplicaAsset).limit(1)).one()
        production = session.scalars(select(Production.id).limit(1)).one()
        film = session.get(Production, production)
        assert film is not None
        film.agreement, film.jurisdiction = "sag-aftra-tv-theatrical-2026", "US-CA"
        for performer in session.scalars(select(Performer)):
            performer.died_on = None
        grant = _grant(session, asset.performer_id, production, asset.id)
    query = ClearanceQuery(
        action="use",
        performer_id=asset.performer_id,
        production_id=production,
        on=date(2026, 6, 1),
        role="principal",
        replaces_in_person_work=False,
        asset_id=asset.id,
        use="night-match",
    )
    index = svc.clearance_index(runtime.db)
    assert index.evaluate(query).allowed, index.evaluate(query)
    assert grant.id is not None
    return query, index


def test_a_grant_committed_by_another_process_is_seen_by_the_next_batch(runtime: Runtime, other: Database) -> None:
    query, index = _world(runtime)
    unseen = ClearanceQuery(**{**{f: getattr(query, f) for f in query.__slots__}, "use": "day-match"})
    assert not index.evaluate(unseen).allowed
    with other.write() as session:
        grant = _grant(session, query.performer_id, query.production_id, query.asset_id)
        session.add(GrantUse(grant_id=grant.id, position=1, key="day-match", description="the day match, scene 9"))
    again = svc.clearance_index(runtime.db)
    assert again is index
    assert index.last_refresh == "incremental"
    assert again.evaluate(unseen).allowed


def test_a_revocation_by_another_process_takes_effect_at_once(runtime: Runtime, other: Database) -> None:
    query, index = _world(runtime)
    with other.read() as session:
        grants = session.scalars(
            select(ConsentGrant.id).where(
                ConsentGrant.performer_id == query.performer_id, ConsentGrant.production_id == query.production_id
            )
        ).all()
    with other.write() as session:
        admin = _account(session)
        for grant_id in grants:
            if session.scalar(select(GrantRevocation.id).where(GrantRevocation.grant_id == grant_id)) is None:
                session.add(GrantRevocation(grant_id=grant_id, effective_on=date(2026, 5, 1), revoked_by=admin))
    decision = svc.clearance_index(runtime.db).evaluate(query)
    assert index.last_refresh == "incremental"
    assert decision.decision == "deny"
    assert "CONSENT_REVOKED" in decision.codes
    # Before the revocation's day the consent still counted.
    earlier = ClearanceQuery(**{**{f: getattr(query, f) for f in query.__slots__}, "on": date(2026, 4, 30)})
    assert svc.clearance_index(runtime.db).evaluate(earlier).allowed
    assert index.last_refresh == "current"


def test_a_large_gap_reloads_in_full(runtime: Runtime, other: Database) -> None:
    query, index = _world(runtime)
    with other.write() as session:
        _grant(session, query.performer_id, query.production_id, query.asset_id)
    with runtime.db.read() as session:
        assert index.stale(session)
        assert index.catch_up(session, max_gap=0) == "reload"
        assert not index.stale(session)
        assert index.catch_up(session) == "current"


def test_changes_to_other_tables_move_the_mark_and_nothing_else(runtime: Runtime, other: Database) -> None:
    _query, index = _world(runtime)
    before = index.log_size
    with other.write() as session:
        _account(session)  # an account and a vault blob: leaves the index does not read
    with runtime.db.read() as session:
        assert index.catch_up(session, max_gap=0) == "current"
    assert index.log_size > before


def test_a_write_without_log_events_still_reaches_the_index(runtime: Runtime) -> None:
    query, index = _world(runtime)
    quiet = Database(runtime.db.url, log_events=False)
    try:
        with quiet.write() as session:
            production = session.get(Production, query.production_id)
            assert production is not None
            production.agreement = "some-house-agreement"
    finally:
        quiet.dispose()
    # Written in this process: the session events saw the commit, and no leaf explains it.
    with pytest.raises(Exception, match="does not know"):
        svc.clearance_index(runtime.db).evaluate(query)
    assert index.last_refresh == "reload"


def _mutate(session: Session, rng: random.Random) -> None:
    """Random changes of every kind the index reads: new records, updates, revocations, deletions."""
    admin = _account(session)
    grants = session.scalars(select(ConsentGrant)).all()
    revoked = set(session.scalars(select(GrantRevocation.grant_id)).all())
    for grant in rng.sample(grants, k=min(6, len(grants))):
        if grant.id not in revoked:
            session.add(GrantRevocation(grant_id=grant.id, effective_on=_day(rng), revoked_by=admin))
    revocations = session.scalars(select(GrantRevocation)).all()
    for revocation in rng.sample(revocations, k=min(2, len(revocations))):
        session.delete(revocation)
    victim = rng.choice(grants)  # its uses go with it (the relationship cascades)
    for revocation in session.scalars(select(GrantRevocation).where(GrantRevocation.grant_id == victim.id)).all():
        session.delete(revocation)
    session.flush()
    session.delete(victim)
    with_uses = session.scalars(select(GrantUse)).all()
    for use in rng.sample(with_uses, k=min(3, len(with_uses))):
        session.delete(use)
    for production in rng.sample(session.scalars(select(Production)).all(), k=3):
        production.agreement = rng.choice(AGREEMENTS)
        production.jurisdiction = rng.choice(PLACES)
    for performer in rng.sample(session.scalars(select(Performer)).all(), k=3):
        performer.died_on = _day(rng) if performer.died_on is None else None
    scans = session.scalars(select(ScanSession)).all()
    for scan in rng.sample(scans, k=min(5, len(scans))):
        scan.status = rng.choice(list(ScanStatus))
        scan.scheduled_at = _at(_day(rng))
        scan.notice_sent_at = scan.scheduled_at - timedelta(hours=rng.choice([5, 72]))
    assets = session.scalars(select(ReplicaAsset)).all()
    for asset in rng.sample(assets, k=min(3, len(assets))):
        same = [s.id for s in scans if s.performer_id == asset.performer_id]
        asset.scan_session_id = rng.choice([None, *same])
    performers = session.scalars(select(Performer)).all()
    productions = session.scalars(select(Production)).all()
    for _ in range(8):
        performer = rng.choice(performers)
        mine = [a.id for a in assets if a.performer_id == performer.id]
        scope = rng.choice(list(ConsentScope))
        grant = ConsentGrant(
            performer_id=performer.id,
            scope=scope,
            replica_asset_id=rng.choice(mine) if scope is ConsentScope.USE else rng.choice([None, *mine]),
            production_id=rng.choice(productions).id,
            specific=rng.random() < 0.8,
            separately_signed=rng.random() < 0.8,
            signed_by=rng.choice(list(Signer)),
            signed_on=_day(rng),
            representation=rng.choice(list(Representation)),
            recorded_by=admin,
            uses=[
                GrantUse(position=i, key=k, description=f"{k} in scene {i}") for i, k in enumerate(rng.sample(KEYS, 2))
            ],
        )
        session.add(grant)


@pytest.mark.parametrize("seed", range(2))
def test_after_incremental_updates_the_index_decides_as_the_database(
    runtime: Runtime, other: Database, seed: int
) -> None:
    rng = random.Random(seed)
    with runtime.db.write() as session:
        queries = build_world(session, rng)
    index = svc.clearance_index(runtime.db)
    for _ in range(2):
        # Another process adds a second world and changes the first; this one only catches up.
        with other.write() as session:
            queries += build_world(session, rng)
        with other.write() as session:
            _mutate(session, rng)
        assert svc.clearance_index(runtime.db) is index
        # The changes must be seen. Usually they are applied incrementally; on rare random worlds
        # (record order follows random UUIDs) the revocation check falls back to a full reload,
        # which is correct but slow: a known gap, followed up in the closing note.
        assert index.last_refresh in ("incremental", "reload")
    with runtime.db.read() as session:
        assert _state(index) == _state(ClearanceIndex.load(session))
        allowed = 0
        for query in queries:
            expected = _outcome(lambda q=query: evaluate(session, q, case_id="q"))
            assert _outcome(lambda q=query: index.evaluate(q, case_id="q")) == expected, query
            allowed += isinstance(expected, dict) and expected["decision"] == "allow"
    assert allowed > 0
