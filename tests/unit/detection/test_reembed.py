"""References of an earlier model: listed, re-embedded from the vault, or flagged for a new upload."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from likeness_ledger.accounts.services import Principal, account_by_name, principal_for
from likeness_ledger.detection import services
from likeness_ledger.detection.face import FUSED_MODEL_NAME
from likeness_ledger.detection.models import Reference, ReferenceSource
from likeness_ledger.errors import NotFound
from likeness_ledger.registry.models import Performer, ReplicaKind, ReplicaMedia
from likeness_ledger.registry.schemas import AssetMeta
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency.models import LogLeaf
from likeness_ledger.vault import services as vault

OLD_MODEL = "sface-2021dec-int8bq+flip"  # what face references were stored under before the cascade


def who(rt: Runtime, name: str) -> Principal:
    with rt.db.read() as session:
        return principal_for(session, account_by_name(session, name))


def performer(rt: Runtime, union_id: str) -> uuid.UUID:
    with rt.db.read() as session:
        pid = session.scalar(select(Performer.id).where(Performer.union_member_id == union_id))
    assert pid is not None
    return pid


@pytest.fixture
def aged(runtime: Runtime, tokens: dict[str, str], media_dir: Path) -> dict[str, uuid.UUID]:
    """Sam enrolled from a vault asset and Lena from an upload, both as if by the earlier face model."""
    union = who(runtime, "union")
    sam, lena = performer(runtime, "SAG-100204"), performer(runtime, "SAG-100203")
    meta = AssetMeta(
        performer_id=sam,
        kind=ReplicaKind.INDEPENDENTLY_CREATED,
        media=ReplicaMedia.FACE,
        content_type="image/jpeg",
        filename="sam.jpg",
    )
    stored = vault.store_replica(
        runtime.db, runtime.store, union, meta, [(media_dir / "obama_ref.jpg").read_bytes()], max_size=10**7
    )
    from_asset, _ = services.enrol_asset(runtime.db, runtime.store, union, stored.asset.id)
    uploaded, _ = services.enrol_upload(
        runtime.db, union, lena, (media_dir / "biden_ref.jpg").read_bytes(), "biden_ref.jpg"
    )
    with runtime.db.write() as session:
        # 128 floats under the old name: what an SFace-only reference looked like.
        old = np.zeros(128, dtype="<f4").tobytes()
        session.execute(update(Reference).values(model=OLD_MODEL, embedding=old))
    return {"sam": sam, "lena": lena, "asset_ref": from_asset.id, "upload_ref": uploaded.id}


def test_outdated_references_are_replaced_from_the_vault_or_flagged(
    runtime: Runtime, aged: dict[str, uuid.UUID], media_dir: Path
) -> None:
    union = who(runtime, "union")
    with runtime.db.read() as session:
        assert {r.id for r in services.outdated_references(session, union)} == {aged["asset_ref"], aged["upload_ref"]}
        # Scans leave them out, so neither performer is found before re-embedding.
        assert services.load_gallery(session, union).performers == {}
    seen: list[tuple[int, int]] = []
    made = services.reembed(runtime.db, runtime.store, union, progress=lambda done, total: seen.append((done, total)))
    outcomes = {o.reference_id: o for o in made}
    assert seen == [(1, 2), (2, 2)]
    replaced = outcomes[aged["asset_ref"]]
    assert replaced.status == "reembedded" and replaced.new_reference_id is not None
    assert outcomes[aged["upload_ref"]].status == "needs_upload"
    with runtime.db.read() as session:
        assert session.get(Reference, aged["asset_ref"]) is None
        new = session.get(Reference, replaced.new_reference_id)
        assert new is not None and new.model == FUSED_MODEL_NAME and new.source is ReferenceSource.ASSET
        assert services.outdated_references(session, union) == [session.get(Reference, aged["upload_ref"])]
        assert set(services.load_gallery(session, union).performers) == {aged["sam"]}
        events = [json.loads(e) for e in session.scalars(select(LogLeaf.event))]
    kinds = [(e["type"], e["entity_id"]) for e in events if e["table"] == "detection_references"]
    assert ("detection_references.deleted", str(aged["asset_ref"])) in kinds
    assert ("detection_references.created", str(replaced.new_reference_id)) in kinds
    # The re-embedded performer is found again.
    [result] = services.scan_files(runtime.db, union, [(media_dir / "obama_probe.jpg", "probe.jpg")])
    assert [m["performer"]["id"] for m in result.scan.matches] == [str(aged["sam"])]
    # Nothing left that the vault can redo: a second run only lists the upload again.
    again = services.reembed(runtime.db, runtime.store, union)
    assert [(o.reference_id, o.status) for o in again] == [(aged["upload_ref"], "needs_upload")]


def test_a_performer_only_reembeds_their_own(runtime: Runtime, aged: dict[str, uuid.UUID]) -> None:
    lena = who(runtime, "lena")
    outcomes = services.reembed(runtime.db, runtime.store, lena)
    assert [(o.reference_id, o.status) for o in outcomes] == [(aged["upload_ref"], "needs_upload")]
    with pytest.raises(NotFound):
        services.reembed(runtime.db, runtime.store, lena, performer_id=aged["sam"])
    with runtime.db.read() as session:
        assert session.get(Reference, aged["asset_ref"]) is not None  # untouched
