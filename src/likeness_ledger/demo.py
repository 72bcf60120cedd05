"""A small, realistic world for trying the product: ``likeness demo`` seeds it.

Two producers with productions, the union, five performers (one of them a background actor scanned
for a film, one deceased with an estate), and an account per party. Running it again seeds nothing
new and issues fresh tokens, since stored tokens are hashes and cannot be shown twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from likeness_ledger.accounts import services as accounts
from likeness_ledger.accounts.models import Account, Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.consent import schemas as consent_schemas
from likeness_ledger.consent import services as consent
from likeness_ledger.consent.models import ConsentGrant, ConsentScope, Representation, Signer
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import (
    PerformerCategory,
    ProductionType,
    ReplicaKind,
    ReplicaMedia,
    RepresentativeKind,
    ScanStatus,
)
from likeness_ledger.runtime import Runtime
from likeness_ledger.usage.demo import seed_usage
from likeness_ledger.vault import services as vault

DEMO_MARKER = "union"


@dataclass(frozen=True)
class DemoToken:
    """An account of the demo world and a fresh token for it."""

    account: str
    role: str
    token: str


def ensure_admin(session: Session) -> Account:
    """The operator's admin account, created by ``likeness init``."""
    admin = session.scalar(select(Account).where(Account.name == "admin"))
    if admin is None:
        admin = accounts.create_account(session, name="admin", role=Role.ADMIN)
    return admin


def _scan_bytes(label: str, size: int = 256 * 1024) -> bytes:
    # Deterministic stand-in for a capture file; real scans are uploaded by producers.
    seed = hashlib.sha256(label.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def seed(rt: Runtime) -> list[DemoToken]:
    """Seed the demo world once, then return a fresh token per demo account."""
    with rt.db.write() as session:
        admin = ensure_admin(session)
        if session.scalar(select(Account).where(Account.name == DEMO_MARKER)) is None:
            _seed_world(rt, session, accounts.principal_for(session, admin))
    _seed_scan_file(rt)
    _seed_consents(rt)
    seed_usage(rt)
    tokens = []
    with rt.db.write() as session:
        for account in session.scalars(
            select(Account).where(Account.disabled_at.is_(None)).order_by(Account.created_at)
        ):
            _, secret = accounts.issue_token(session, account, label="demo")
            tokens.append(DemoToken(account=account.name, role=account.role.value, token=secret))
    return tokens


def _seed_world(rt: Runtime, session: Session, admin: Principal) -> None:
    union = accounts.create_account(session, name="union", role=Role.UNION)
    union_p = accounts.principal_for(session, union)
    studio = registry.create_producer(session, union_p, schemas.ProducerIn(name="Northlight Pictures"))
    games = registry.create_producer(session, union_p, schemas.ProducerIn(name="Pixelforge Games"))
    accounts.create_account(session, name="northlight", role=Role.PRODUCER, producer_id=studio.id)
    accounts.create_account(session, name="pixelforge", role=Role.PRODUCER, producer_id=games.id)
    film = registry.create_production(
        session,
        admin,
        schemas.ProductionIn(
            producer_id=studio.id,
            title="Stadium",
            type=ProductionType.THEATRICAL,
            agreement="sag-aftra-tv-theatrical-2026",
            jurisdiction="US-CA",
            start_on=date(2026, 9, 1),
            end_on=date(2027, 3, 31),
        ),
    )
    registry.create_production(
        session,
        admin,
        schemas.ProductionIn(
            producer_id=games.id,
            title="Skyline Heist",
            type=ProductionType.VIDEO_GAME,
            agreement="sag-aftra-interactive-2025",
            jurisdiction="US-NY",
            start_on=date(2026, 5, 1),
        ),
    )
    people = [
        ("maya", "Maya Okafor", None, PerformerCategory.BACKGROUND, date(1994, 3, 12), None, "SAG-100201", "US-CA"),
        (
            "jon",
            "Jonathan Reyes",
            "Jon Reyes",
            PerformerCategory.PRINCIPAL,
            date(1981, 7, 2),
            None,
            "SAG-100202",
            "US-NY",
        ),
        ("lena", "Lena Park", None, PerformerCategory.PRINCIPAL, date(1990, 11, 20), None, "SAG-100203", "US-IL"),
        (
            "sam",
            "Samuel Whitaker",
            "Sam Whit",
            PerformerCategory.BACKGROUND,
            date(1975, 1, 30),
            None,
            "SAG-100204",
            "US-TN",
        ),
        (
            "ruth",
            "Ruth Alder",
            "Ruthie Alder",
            PerformerCategory.PRINCIPAL,
            date(1931, 5, 5),
            date(2019, 8, 14),
            "SAG-100205",
            "US-CA",
        ),
    ]
    by_key = {}
    for key, legal, stage, category, born, died, member, domicile in people:
        performer = registry.create_performer(
            session,
            union_p,
            schemas.PerformerIn(
                legal_name=legal,
                professional_name=stage,
                category=category,
                born_on=born,
                died_on=died,
                union_member_id=member,
                domicile=domicile,
            ),
        )
        by_key[key] = performer
        if died is None:
            accounts.create_account(session, name=key, role=Role.PERFORMER, performer_id=performer.id)
    estate = registry.create_representative(
        session,
        union_p,
        schemas.RepresentativeIn(
            performer_id=by_key["ruth"].id,
            kind=RepresentativeKind.ESTATE,
            name="Estate of Ruth Alder",
            valid_from=date(2019, 8, 14),
        ),
    )
    accounts.create_account(session, name="alder-estate", role=Role.REPRESENTATIVE, representative_id=estate.id)
    scan = registry.create_scan_session(
        session,
        admin,
        schemas.ScanSessionIn(
            production_id=film.id,
            performer_id=by_key["maya"].id,
            engaged_at=datetime(2026, 9, 1, 9, tzinfo=UTC),
            notice_sent_at=datetime(2026, 9, 2, 9, tzinfo=UTC),
            scheduled_at=datetime(2026, 9, 8, 9, tzinfo=UTC),
            scan_only_call=True,
            operator="Volumetric Stage 2",
        ),
    )
    # Maya consented to the scan before it was held (signed on paper, recorded by the union), so
    # the session may take place.
    consent.create_grant(
        session,
        union_p,
        consent_schemas.GrantIn(
            performer_id=by_key["maya"].id,
            scope=ConsentScope.CREATION,
            production_id=film.id,
            uses=[
                consent_schemas.UseIn(
                    key="stadium-crowd", description="face capture for the crowd in the stadium sequence, scenes 40-44"
                )
            ],
            specific=True,
            separately_signed=True,
            signed_by=Signer.PERFORMER,
            signed_on=date(2026, 9, 3),
            representation=Representation.UNION,
        ),
    )
    registry.set_scan_status(session, admin, scan.id, ScanStatus.COMPLETED)


def _seed_scan_file(rt: Runtime) -> None:
    """Store the background actor's face scan in the vault, as the studio would after the session."""
    with rt.db.read() as session:
        studio = accounts.principal_for(session, accounts.account_by_name(session, "northlight"))
        maya = accounts.account_by_name(session, "maya")
        scans, _ = registry.list_scan_sessions(session, studio, limit=1, offset=0)
    if not scans or maya.performer_id is None:
        return
    meta = schemas.AssetMeta(
        performer_id=maya.performer_id,
        kind=ReplicaKind.EMPLOYMENT_BASED,
        media=ReplicaMedia.FACE,
        scan_session_id=scans[0].id,
        filename="maya-face-scan.bin",
        content_type="application/octet-stream",
        description="Photogrammetry face capture, Stadium crowd plates",
    )
    vault.store_replica(
        rt.db, rt.store, studio, meta, [_scan_bytes("maya-face")], max_size=rt.settings.max_upload_bytes
    )


def _seed_consents(rt: Runtime) -> None:
    """Maya's signed consent to the crowd use of her scan in Stadium, and a request for more.

    The demo then shows both answers: the crowd use in Stadium clears (and is paid); a trailer use,
    or any use in another production, is denied with the reason.
    """
    with rt.db.read() as session:
        maya = accounts.principal_for(session, accounts.account_by_name(session, "maya"))
        studio = accounts.principal_for(session, accounts.account_by_name(session, "northlight"))
        assets, _ = registry.list_assets(session, studio, limit=1, offset=0)
        if not assets or session.scalar(select(ConsentGrant.id).where(ConsentGrant.replica_asset_id == assets[0].id)):
            return
        asset = assets[0]
        scan = registry.get_scan_session(session, studio, asset.scan_session_id) if asset.scan_session_id else None
    if scan is None:
        return
    document = b"Consent to digital replica use: crowd in the stadium sequence of Stadium, scenes 40-44.\n"
    digest = vault.store_blob(rt.db, rt.store, [document], max_size=rt.settings.max_upload_bytes)
    with rt.db.write() as session:
        grant = consent.create_grant(
            session,
            maya,
            consent_schemas.GrantIn(
                performer_id=asset.performer_id,
                scope=ConsentScope.USE,
                replica_asset_id=asset.id,
                production_id=scan.production_id,
                uses=[
                    consent_schemas.UseIn(
                        key="stadium-crowd", description="crowd in the stadium sequence, scenes 40-44"
                    )
                ],
                specific=True,
                separately_signed=True,
                signed_on=date(2026, 9, 8),
                expires_on=date(2027, 3, 31),
                representation=Representation.UNION,
            ),
        )
        consent.attach_grant_document(session, maya, grant.id, digest)
        consent.create_request(
            session,
            studio,
            consent_schemas.RequestIn(
                performer_id=asset.performer_id,
                production_id=scan.production_id,
                scope=ConsentScope.USE,
                replica_asset_id=asset.id,
                uses=[
                    consent_schemas.UseIn(
                        key="stadium-trailer", description="the crowd shot of scene 42 in the theatrical trailer"
                    )
                ],
                expires_on=date(2027, 6, 30),
                proposed_daily_pay="250.00",
            ),
        )
