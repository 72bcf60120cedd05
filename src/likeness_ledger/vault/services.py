"""Vault services: storing replica bytes with their record, releasing them, collecting garbage.

Bytes are written (and fsynced) before the record is committed. A crash in between leaves bytes
without a record, which :func:`collect_garbage` removes; it can never leave a record without bytes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import Database, set_actor
from likeness_ledger.errors import InvalidInput
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import ReplicaAsset
from likeness_ledger.registry.schemas import AssetMeta
from likeness_ledger.vault.models import Release, VaultBlob
from likeness_ledger.vault.policy import ReleasePolicy, ReleaseRequest, gated_release_policy
from likeness_ledger.vault.store import BlobStore

GC_GRACE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class StoredAsset:
    """The outcome of an upload: the record, and whether it is new."""

    asset: ReplicaAsset
    created: bool


def _record_blob(session: Session, sha256: str, size: int) -> None:
    if session.get(VaultBlob, sha256) is None:
        session.add(VaultBlob(sha256=sha256, size=size))
        session.flush()


def store_blob(
    db: Database, store: BlobStore, data: BinaryIO | Iterable[bytes], *, max_size: int, expected_size: int | None = None
) -> str:
    """Store bytes that are not a replica (an authority document) and record the blob; return its digest."""
    info = store.put(data, max_size=max_size, expected_size=expected_size)
    with db.write() as session:
        _record_blob(session, info.sha256, info.size)
    return info.sha256


def store_replica(
    db: Database,
    store: BlobStore,
    principal: Principal,
    meta: AssetMeta,
    data: BinaryIO | Iterable[bytes],
    *,
    max_size: int,
) -> StoredAsset:
    """Check the caller may add this asset, stream the bytes into the vault, then commit the record.

    The same bytes uploaded twice with the same description return the first record
    (``created=False``) and store nothing new.
    """
    with db.read() as session:
        registry.check_asset_upload(session, principal, meta)  # refuse before reading any bytes
    info = store.put(data, max_size=max_size, expected_size=meta.size, expected_sha256=meta.sha256)
    with db.write() as session:
        set_actor(session, principal.name)
        registry.check_asset_upload(session, principal, meta)  # state may have changed meanwhile
        _record_blob(session, info.sha256, info.size)
        existing = session.scalar(
            select(ReplicaAsset).where(
                ReplicaAsset.performer_id == meta.performer_id,
                ReplicaAsset.sha256 == info.sha256,
                ReplicaAsset.kind == meta.kind,
                ReplicaAsset.media == meta.media,
                ReplicaAsset.scan_session_id == meta.scan_session_id
                if meta.scan_session_id
                else ReplicaAsset.scan_session_id.is_(None),
            )
        )
        if existing is not None:
            return StoredAsset(existing, created=False)
        asset = ReplicaAsset(
            performer_id=meta.performer_id,
            kind=meta.kind,
            media=meta.media,
            scan_session_id=meta.scan_session_id,
            sha256=info.sha256,
            size=info.size,
            content_type=meta.content_type,
            filename=meta.filename,
            description=meta.description,
            uploaded_by=principal.account_id,
        )
        session.add(asset)
        session.flush()
        return StoredAsset(asset, created=True)


def release(
    db: Database,
    store: BlobStore,
    principal: Principal,
    asset_id: uuid.UUID,
    purpose: str,
    *,
    policy: ReleasePolicy | None = None,
    on: date | None = None,
) -> tuple[ReplicaAsset, Iterator[bytes]]:
    """The one way replica bytes leave the vault: check the policy, record the release, stream.

    The release is recorded before the first byte is sent; the stream verifies every chunk and the
    whole file's digest as it goes, and fails rather than hand over altered bytes. A producer gets
    the bytes only for a use the clearance engine allows on ``on`` (default today), named in the
    purpose as ``USE_KEY@PRODUCTION_ID`` (:func:`~likeness_ledger.vault.policy.gated_release_policy`).
    """
    purpose = purpose.strip()
    if not purpose or len(purpose) > 500:
        raise InvalidInput("purpose: say why the replica is needed (1 to 500 characters)")
    with db.write() as session:
        set_actor(session, principal.name)
        asset = registry.get_asset(session, principal, asset_id)
        request = ReleaseRequest(
            principal=principal,
            asset_id=asset.id,
            performer_id=asset.performer_id,
            purpose=purpose,
            on=on or datetime.now(UTC).date(),  # the day of use: today, unless a caller says otherwise
            session=session,
        )
        (policy or gated_release_policy()).check(request)
        session.add(Release(asset_id=asset.id, account_id=principal.account_id, purpose=purpose))
    return asset, store.iter_plaintext(asset.sha256)


def list_releases(
    session: Session, principal: Principal, asset_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[Release], int]:
    """Every release of an asset the caller can see: who took the bytes and why."""
    asset = registry.get_asset(session, principal, asset_id)
    total = session.scalar(select(func.count()).select_from(Release).where(Release.asset_id == asset.id)) or 0
    rows = session.scalars(
        select(Release).where(Release.asset_id == asset.id).order_by(Release.released_at).limit(limit).offset(offset)
    )
    return list(rows), total


def collect_garbage(db: Database, store: BlobStore, *, grace_seconds: float = GC_GRACE_SECONDS) -> list[str]:
    """Delete stored bytes that have no record and are older than the grace period.

    The grace period protects uploads in flight, whose bytes are on disk a moment before their
    record commits.
    """
    with db.read() as session:
        known = set(session.scalars(select(VaultBlob.sha256)))
    cutoff = time.time() - grace_seconds
    removed = []
    for digest in store.iter_digests():
        if digest not in known and store.mtime(digest) < cutoff:
            store.delete(digest)
            removed.append(digest)
    store.remove_stale_temp(older_than=grace_seconds)
    return removed
