"""Detection services: enrolment, withdrawal, scanning with clearance, findings and their life cycle.

Visibility follows the registry: a performer (or their representative) enrols, scans against and
sees only their own references and findings; the union and admins see all; a producer may scan
(a platform checking uploads) and sees the findings its own scans raised, never other findings.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session, aliased

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import Database, set_actor, utcnow
from likeness_ledger.detection import media, voicebridge
from likeness_ledger.detection.face import FUSED_MODEL_NAME, reference_embedding
from likeness_ledger.detection.fingerprint import PdqIndex
from likeness_ledger.detection.models import (
    Finding,
    FindingStatus,
    MediaKind,
    Modality,
    Reference,
    ReferenceSource,
)
from likeness_ledger.detection.scan import FileScan, Gallery, GalleryPerformer, Scanner
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer
from likeness_ledger.vault.models import Release
from likeness_ledger.vault.store import BlobStore

logger = logging.getLogger(__name__)

ENROL_PURPOSE = "internal use: detection enrolment (face/voice reference embedding)"
SCAN_PURPOSE = "internal use: detection scan of a stored asset"
COUNTER_NOTICE_DAYS = 14


# --- visibility --------------------------------------------------------------------------------


def _require_enrol(session: Session, principal: Principal, performer_id: uuid.UUID) -> Performer:
    principal.require(Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="enrol references")
    if principal.acts_for_performer and principal.performer_id != performer_id:
        raise NotFound(f"performer {performer_id} not found")
    performer = session.get(Performer, performer_id)
    if performer is None:
        raise NotFound(f"performer_id: performer {performer_id} not found")
    return performer


def reference_filter(principal: Principal) -> ColumnElement[bool]:
    """References the principal may see: their own performer's, or all for the union and admins."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Reference.performer_id == principal.performer_id
    return false()


def finding_filter(principal: Principal) -> ColumnElement[bool]:
    """Findings the principal may see: the performer's own, all (union/admin), or those it reported."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Finding.performer_id == principal.performer_id
    return Finding.reported_by == principal.account_id


# --- enrolment ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Embedded:
    """A reference embedding computed from media, with what it was computed from."""

    modality: Modality
    model: str
    vector: np.ndarray[Any, np.dtype[np.float32]]
    sha256: str


def embed_reference(data: bytes, name: str) -> Embedded:
    """Embed one reference file: the largest face of an image, or the voice of an audio file."""
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise InvalidInput(f"{name}: empty file (0 bytes)")
    if media.is_image_header(data[:16]):
        try:
            image = media.load_image(data)
        except media.MediaError as exc:
            raise InvalidInput(f"{name}: {exc.message}") from exc
        # References are portraits: the largest face is the subject. SFace's and dlib's embeddings
        # are stored together so the scan's cascade can fuse them.
        vector = reference_embedding(image)
        if vector is None:
            raise InvalidInput(f"{name}: no face found in the reference image")
        return Embedded(Modality.FACE, FUSED_MODEL_NAME, vector, digest)
    backend = voicebridge.backend()
    if backend is None:
        raise InvalidInput(f"{name}: not an image, and {voicebridge.unavailable_reason()}")
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            samples = media.audio_samples(Path(tmp.name), backend.sample_rate)
        except media.MediaError as exc:
            # Not a JPEG, PNG or WebP, so it was tried as audio: say both, a .bmp photo is not "audio".
            raise InvalidInput(
                f"{name}: not a JPEG, PNG or WebP image, and not audio that can be read ({exc.message})"
            ) from exc
    if samples.size < backend.sample_rate:
        # A .bmp photo or a silent video lands here too: references are JPEG/PNG/WebP faces or voices.
        raise InvalidInput(f"{name}: not a JPEG, PNG or WebP image, and no audio (or under one second of it)")
    return Embedded(Modality.VOICE, backend.model, backend.embed(samples, backend.sample_rate), digest)


def add_reference(
    session: Session,
    principal: Principal,
    performer_id: uuid.UUID,
    embedded: Embedded,
    *,
    source: ReferenceSource,
    source_name: str | None,
    asset_id: uuid.UUID | None = None,
) -> tuple[Reference, bool]:
    """Store an embedding for a performer; the same source twice returns the first (False)."""
    set_actor(session, principal.name)
    _require_enrol(session, principal, performer_id)
    existing = session.scalar(
        select(Reference).where(
            Reference.performer_id == performer_id,
            Reference.modality == embedded.modality,
            Reference.source_sha256 == embedded.sha256,
            Reference.model == embedded.model,
        )
    )
    if existing is not None:
        return existing, False
    # The union and admins vouch for what they enrol; a performer's or representative's own upload
    # waits for approval before anyone else's scans use it (see approve_reference).
    vouched = principal.sees_all
    ref = Reference(
        performer_id=performer_id,
        modality=embedded.modality,
        model=embedded.model,
        embedding=np.asarray(embedded.vector, dtype="<f4").tobytes(),
        source=source,
        asset_id=asset_id,
        source_sha256=embedded.sha256,
        source_name=(source_name or "")[:300] or None,
        created_by=principal.account_id,
        approved_at=utcnow() if vouched else None,
        approved_by=principal.account_id if vouched else None,
    )
    session.add(ref)
    session.flush()
    return ref, True


def approve_reference(session: Session, principal: Principal, reference_id: uuid.UUID) -> Reference:
    """Approve a reference a performer or representative uploaded, so everyone's scans use it.

    Only the union and admins approve: they check that the face or voice is the performer's. An
    approved reference stays approved (approving again changes nothing).
    """
    set_actor(session, principal.name)
    principal.require(Role.UNION, Role.ADMIN, action="approve references")
    ref = session.scalar(select(Reference).where(Reference.id == reference_id, reference_filter(principal)))
    if ref is None:
        raise NotFound(f"reference {reference_id} not found")
    if ref.approved_at is None:
        ref.approved_at = utcnow()
        ref.approved_by = principal.account_id
        session.flush()
    return ref


def enrol_upload(
    db: Database, principal: Principal, performer_id: uuid.UUID, data: bytes, name: str
) -> tuple[Reference, bool]:
    """Enrol reference media sent by the caller (only its digest and embedding are kept)."""
    with db.read() as session:
        _require_enrol(session, principal, performer_id)  # refuse before running any model
    embedded = embed_reference(data, name)
    with db.write() as session:
        return add_reference(
            session, principal, performer_id, embedded, source=ReferenceSource.UPLOAD, source_name=name
        )


def _asset_bytes(
    db: Database, store: BlobStore, principal: Principal, asset_id: uuid.UUID, purpose: str
) -> tuple[Any, bytes]:
    """Decrypt a replica asset for an internal use, recording that use like a release."""
    with db.write() as session:
        set_actor(session, principal.name)
        asset = registry.get_asset(session, principal, asset_id)
        session.add(Release(asset_id=asset.id, account_id=principal.account_id, purpose=purpose))
    return asset, b"".join(store.iter_plaintext(asset.sha256))


def enrol_asset(db: Database, store: BlobStore, principal: Principal, asset_id: uuid.UUID) -> tuple[Reference, bool]:
    """Enrol a performer's replica asset from the vault (decrypted here, never handed out)."""
    with db.read() as session:
        asset = registry.get_asset(session, principal, asset_id)
        _require_enrol(session, principal, asset.performer_id)
    asset, data = _asset_bytes(db, store, principal, asset_id, ENROL_PURPOSE)
    embedded = embed_reference(data, asset.filename or str(asset.id))
    with db.write() as session:
        return add_reference(
            session,
            principal,
            asset.performer_id,
            embedded,
            source=ReferenceSource.ASSET,
            source_name=asset.filename,
            asset_id=asset.id,
        )


def current_model(modality: Modality) -> str | None:
    """The model new references of ``modality`` are stored under (None: no voice model installed)."""
    if modality is Modality.FACE:
        return FUSED_MODEL_NAME
    backend = voicebridge.backend()  # loads the voice model
    return None if backend is None else backend.model


def outdated_references(
    session: Session, principal: Principal, *, performer_id: uuid.UUID | None = None
) -> list[Reference]:
    """References the caller may see that were made with an earlier model, so scans leave them out."""
    where = [reference_filter(principal), Reference.model != FUSED_MODEL_NAME]
    if performer_id is not None:
        where.append(Reference.performer_id == performer_id)
    rows = list(session.scalars(select(Reference).where(*where).order_by(Reference.created_at, Reference.id)))
    voice_model = current_model(Modality.VOICE) if any(r.modality is Modality.VOICE for r in rows) else None
    # Without a voice model, voice references cannot be compared or made again: none is outdated.
    return [r for r in rows if r.modality is Modality.FACE or (voice_model is not None and r.model != voice_model)]


@dataclass
class ReembedOutcome:
    """What :func:`reembed` did with one outdated reference."""

    reference_id: uuid.UUID
    performer_id: uuid.UUID
    status: str  # "reembedded", "needs_upload" (no bytes were kept) or "failed"
    new_reference_id: uuid.UUID | None = None
    detail: str | None = None


def reembed(
    db: Database,
    store: BlobStore,
    principal: Principal,
    *,
    performer_id: uuid.UUID | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ReembedOutcome]:
    """Enrol outdated references again with the current models, from the vault where they came from.

    An asset-sourced reference is decrypted (recorded as an enrolment use, like the first time),
    embedded again, and replaced in one transaction: the new reference is added and the old one
    deleted, both logged. An uploaded reference kept no bytes, so it is reported as
    ``needs_upload``: the performer (or union) sends the photo or recording again. A reference
    whose asset no longer shows a face or voice is reported as ``failed`` and left as it was.
    ``progress(done, total)`` is called after each one.
    """
    principal.require(Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="re-embed references")
    with db.read() as session:
        if performer_id is not None:
            _require_enrol(session, principal, performer_id)
        pending = [
            (r.id, r.performer_id, r.source, r.asset_id)
            for r in outdated_references(session, principal, performer_id=performer_id)
        ]
    outcomes: list[ReembedOutcome] = []
    for done, (ref_id, owner, source, asset_id) in enumerate(pending, 1):
        if source is ReferenceSource.ASSET and asset_id is not None:
            outcomes.append(_reembed_asset(db, store, principal, ref_id, owner=owner, asset_id=asset_id))
        else:
            outcomes.append(
                ReembedOutcome(ref_id, owner, "needs_upload", detail="uploaded media is not kept: enrol it again")
            )
        if progress is not None:
            progress(done, len(pending))
    return outcomes


def _reembed_asset(
    db: Database, store: BlobStore, principal: Principal, ref_id: uuid.UUID, *, owner: uuid.UUID, asset_id: uuid.UUID
) -> ReembedOutcome:
    try:
        asset, data = _asset_bytes(db, store, principal, asset_id, ENROL_PURPOSE)
        embedded = embed_reference(data, asset.filename or str(asset.id))
    except (InvalidInput, NotFound) as exc:
        return ReembedOutcome(ref_id, owner, "failed", detail=exc.message)
    with db.write() as session:
        old = session.get(Reference, ref_id)
        if old is None:  # withdrawn meanwhile: nothing to replace
            return ReembedOutcome(ref_id, owner, "failed", detail="withdrawn while being re-embedded")
        new, _ = add_reference(
            session,
            principal,
            owner,
            embedded,
            source=ReferenceSource.ASSET,
            source_name=old.source_name,
            asset_id=asset_id,
        )
        if old.approved_at is not None and new.approved_at is None:
            # The same source under the current model: as approved as the row it replaces.
            new.approved_at, new.approved_by = old.approved_at, old.approved_by
        session.delete(old)
        session.flush()
        return ReembedOutcome(ref_id, owner, "reembedded", new_reference_id=new.id)


def list_references(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    performer_id: uuid.UUID | None = None,
    pending: bool | None = None,
) -> tuple[list[Reference], int]:
    """References the caller may see (embeddings are not part of the answer).

    ``pending``: only those waiting for the union's approval (True), or only approved ones (False).
    """
    where = [reference_filter(principal)]
    if performer_id is not None:
        where.append(Reference.performer_id == performer_id)
    if pending is not None:
        where.append(Reference.approved_at.is_(None) if pending else Reference.approved_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(Reference).where(*where)) or 0
    rows = session.scalars(
        select(Reference).where(*where).order_by(Reference.created_at, Reference.id).limit(limit).offset(offset)
    )
    return list(rows), total


def withdraw(
    session: Session, principal: Principal, performer_id: uuid.UUID, *, reference_id: uuid.UUID | None = None
) -> int:
    """Delete a performer's enrolled embeddings (all, or one); returns how many were deleted."""
    set_actor(session, principal.name)
    _require_enrol(session, principal, performer_id)
    where = [Reference.performer_id == performer_id]
    if reference_id is not None:
        where.append(Reference.id == reference_id)
        if session.scalar(select(Reference.id).where(*where)) is None:
            raise NotFound(f"reference {reference_id} not found")
    # Row by row (not a bulk DELETE) so the transparency log's ORM hooks see each deletion.
    rows = list(session.scalars(select(Reference).where(*where)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


# --- gallery and scanning ----------------------------------------------------------------------


_GALLERY_CACHE: dict[tuple[str, str, str], tuple[tuple[Any, ...], Gallery]] = {}
_GALLERY_LOCK = threading.Lock()


def load_gallery(session: Session, principal: Principal, *, index_kind: str = "auto") -> Gallery:
    """The gallery a principal scans against: a performer's own references, or everyone's approved ones.

    Built galleries are cached per scope and database: a new reference always has the newest
    ``created_at``, an approval raises the approved count and a withdrawal lowers the count, so
    ``(count, newest, newest approval)`` tells when to rebuild.
    """
    # A performer's own scans use all their references; everyone else's only approved ones.
    if principal.acts_for_performer:
        scope = [Reference.performer_id == principal.performer_id]
    else:
        scope = [Reference.approved_at.is_not(None)]
    version = tuple(
        session.execute(
            select(func.count(), func.max(Reference.created_at), func.max(Reference.approved_at)).where(*scope)
        ).one()
    )
    key = (
        str(session.get_bind().engine.url),
        str(principal.performer_id) if principal.acts_for_performer else "*",
        index_kind,
    )
    with _GALLERY_LOCK:
        cached = _GALLERY_CACHE.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    gallery = _build_gallery(session, scope, index_kind)
    if not principal.acts_for_performer:
        waiting = session.scalar(select(func.count()).select_from(Reference).where(Reference.approved_at.is_(None)))
        if waiting:
            # Said, not hidden, like references of an earlier model below.
            logger.warning(
                "%d reference(s) uploaded by performers wait for the union's approval and are not used "
                "in this scan: `likeness detection references --pending`, then `likeness detection approve ID`",
                waiting,
            )
    with _GALLERY_LOCK:
        _GALLERY_CACHE[key] = (version, gallery)
    return gallery


def _build_gallery(session: Session, scope: list[Any], index_kind: str) -> Gallery:
    stmt = select(Reference.performer_id, Reference.modality, Reference.model, Reference.embedding).where(*scope)
    faces: list[tuple[uuid.UUID, Any]] = []
    voices: list[tuple[uuid.UUID, str, Any]] = []
    stale_faces = 0
    for performer_id, modality, model, blob in session.execute(stmt):
        vec = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        # Face references of earlier recipes (SFace alone) are left out: the operating point is
        # calibrated for the fused score, so they must be enrolled again.
        if modality is Modality.FACE:
            if model == FUSED_MODEL_NAME:
                faces.append((performer_id, vec))
            else:
                stale_faces += 1
        elif modality is Modality.VOICE:
            voices.append((performer_id, model, vec))
    # Vectors of another model version are not comparable; the voice model loads only if needed.
    backend = voicebridge.backend() if voices else None
    voice_refs = [(p, v) for p, model, v in voices if backend is None or model == backend.model]
    superseded = stale_faces + len(voices) - len(voice_refs)
    if superseded:
        # Said, not hidden: a performer enrolled under an earlier model would otherwise simply stop
        # being found after an upgrade.
        logger.warning(
            "%d reference(s) were made with an earlier model and are not used in scans: "
            "`likeness detection reembed` (POST /detection/references/reembed) redoes those from "
            "vault assets and lists the uploads to send again",
            superseded,
        )
    ids = {p for p, _ in faces} | {p for p, _ in voice_refs}
    performers = {
        pid: GalleryPerformer(pid, ref)
        for pid, ref in session.execute(select(Performer.id, Performer.union_member_id).where(Performer.id.in_(ids)))
    }
    return Gallery.build(performers, faces, voice_refs, index_kind=index_kind)


@dataclass
class ScanResult:
    """A scanned file with its verdict, as the CLI and API report it."""

    scan: FileScan
    status: str  # cleared | unauthorized | no_match | error
    cleared_by: str | None = None
    findings: list[uuid.UUID] = field(default_factory=list)
    staydown_of: uuid.UUID | None = None

    def to_json(self) -> dict[str, Any]:
        """The issue's per-file shape (plus ``error`` for a file that could not be read)."""
        out: dict[str, Any] = {
            "path": self.scan.path,
            "media": self.scan.media.value if self.scan.media else None,
            "status": self.status,
            "matches": self.scan.matches,
        }
        if self.scan.error:
            out["error"] = self.scan.error
        return out


def cleared_performers(session: Session, sha256: str) -> set[uuid.UUID]:
    """Performers whose cleared, current usage reports list this exact output file (by SHA-256).

    Queried here rather than through ``usage.services.outputs_by_sha256``, which answers one report
    per digest: an output showing two performers is covered by two reports, one for each.
    """
    try:
        from likeness_ledger.usage.models import ReportStatus, UsageOutput, UsageReport  # noqa: PLC0415
    except ImportError:  # the usage domain is optional
        return set()
    newer = aliased(UsageReport)
    stmt = (
        select(UsageReport.performer_id)
        .join(UsageOutput, UsageOutput.report_id == UsageReport.id)
        .where(
            UsageOutput.sha256 == sha256,
            UsageReport.status == ReportStatus.CLEARED,
            ~select(newer.id).where(newer.supersedes_id == UsageReport.id).exists(),
        )
    )
    return set(session.scalars(stmt))


_PDQ_CACHE: dict[str, tuple[tuple[Any, ...], PdqIndex]] = {}
_PDQ_LOCK = threading.Lock()


def _nearest_pdq(session: Session, query: str) -> tuple[int, Any] | None:
    """``(distance, finding id)`` of the finding whose PDQ is nearest ``query`` within the match distance.

    Every finding's hash is held in a :class:`PdqIndex` per database, brought up to date on each call.

    Findings are never deleted and their PDQ never changes, so ``(count, newest created_at)`` tells
    what changed since the index was built: usually a few new findings, which are read alone and
    appended; any other change (a rolled-back transaction, a count that does not add up) rebuilds it.
    """
    has_pdq = Finding.pdq.is_not(None)
    stamp = tuple(session.execute(select(func.count(), func.max(Finding.created_at)).where(has_pdq)).one())
    key = str(session.get_bind().engine.url)
    with _PDQ_LOCK:
        stamped, index = _PDQ_CACHE.get(key, ((0, None), PdqIndex()))
        if stamped != stamp:
            grown = stamped[1] is not None and stamp[0] > stamped[0]
            if grown:
                # Strictly newer only: a missed finding with the same timestamp shows in the count below.
                newer = select(Finding.pdq, Finding.id).where(has_pdq, Finding.created_at > stamped[1])
                index.extend((pdq, fid) for pdq, fid in session.execute(newer) if pdq)
            # Anything but growth (the same count with a newer finding: a restored or recreated
            # database) cannot be patched; neither can growth that does not add up.
            if not grown or len(index) != stamp[0]:
                every = select(Finding.pdq, Finding.id).where(has_pdq)
                index = PdqIndex.of((pdq, fid) for pdq, fid in session.execute(every) if pdq)
            _PDQ_CACHE[key] = (stamp, index)
        # Looked up under the lock: another thread's update may be growing this index.
        return index.nearest(query)


def _known(session: Session, principal: Principal, scan: FileScan) -> tuple[list[Finding], Finding | None]:
    """Findings already on file for this media: ``(same bytes, nearest re-upload)``.

    The same bytes (SHA-256) give every finding made for them, whoever is in them; otherwise the
    finding whose PDQ is nearest within the match distance is a re-encoded or resized re-upload
    (staydown). A performer's scan compares against their own references only, so it looks only at
    their own findings too: another performer's finding must not show through a re-upload.
    """
    own = [Finding.performer_id == principal.performer_id] if principal.acts_for_performer else []
    same = list(
        session.scalars(select(Finding).where(Finding.media_sha256 == scan.sha256, *own).order_by(Finding.created_at))
    )
    if same or scan.pdq is None:
        return same, None
    if own:
        # A performer's findings are few: a throwaway index of just those.
        mine = PdqIndex.of(
            (pdq, fid) for pdq, fid in session.execute(select(Finding.pdq, Finding.id).where(*own)) if pdq
        )
        hit = mine.nearest(scan.pdq.hex)
    else:
        hit = _nearest_pdq(session, scan.pdq.hex)
    return [], session.get(Finding, hit[1]) if hit is not None else None


def _visible(session: Session, principal: Principal, finding_id: uuid.UUID) -> bool:
    return session.scalar(select(Finding.id).where(Finding.id == finding_id, finding_filter(principal))) is not None


def _add_known(scan: FileScan, same: list[Finding], earlier: Finding | None) -> None:
    """Add to ``scan`` the performers of findings already on file for it that it did not match now."""
    matched = {m["performer"]["id"] for m in scan.matches}
    for known in same:
        # The very same bytes: where the performer was found then is where they are now.
        if str(known.performer_id) not in matched:
            scan.matches.extend(known.matches)
            matched.add(str(known.performer_id))
    if earlier is not None and str(earlier.performer_id) not in matched:
        # A known unauthorized picture re-uploaded: its performer is in it even if no face matched now.
        width, height = scan.size or (0, 0)
        copy = {k: v for k, v in earlier.matches[0].items() if k in ("performer", "modality", "score")}
        if scan.media is MediaKind.IMAGE:
            copy["box"] = [0, 0, width, height]
        else:
            copy |= {"start": 0.0, "end": 0.0}
        scan.matches.append(copy)


def judge(session: Session, principal: Principal, scan: FileScan, *, c2pa_valid: bool = False) -> ScanResult:
    """Cleared, unauthorized or no match; record findings for unauthorized matches (staydown too).

    Media already found is reported again for the performers found in it, even when no face or
    voice matches now (a blurred or cropped re-upload, or after the performer withdrew enrolment:
    the finding is about the media). Finding ids the caller may not open are left out of the result.
    """
    if scan.error:
        return ScanResult(scan, "error")
    assert scan.sha256 is not None
    same, earlier = _known(session, principal, scan)
    _add_known(scan, same, earlier)
    if not scan.matches:
        return ScanResult(scan, "no_match")
    if c2pa_valid:
        return ScanResult(scan, "cleared", cleared_by="c2pa")
    covered = cleared_performers(session, scan.sha256)
    uncovered = sorted({m["performer"]["id"] for m in scan.matches} - {str(p) for p in covered})
    if not uncovered:
        return ScanResult(scan, "cleared", cleared_by="usage_report")
    result = ScanResult(scan, "unauthorized")
    set_actor(session, principal.name)
    now = utcnow()
    for performer in uncovered:
        pid = uuid.UUID(performer)
        mine = [m for m in scan.matches if m["performer"]["id"] == performer]
        best = max(mine, key=lambda m: m["score"])
        finding = session.scalar(
            select(Finding).where(Finding.performer_id == pid, Finding.media_sha256 == scan.sha256)
        )
        if finding is None:
            finding = Finding(
                performer_id=pid,
                media_sha256=scan.sha256,
                media=scan.media,
                location=scan.path,
                modality=Modality(best["modality"]),
                score=float(best["score"]),
                matches=mine,
                pdq=scan.pdq.hex if scan.pdq else None,
                staydown_of=earlier.id if earlier is not None else None,
                reported_by=principal.account_id,
                sightings=1,
                last_seen_at=now,
            )
            session.add(finding)
        else:
            finding.sightings += 1
            finding.last_seen_at = now
        session.flush()
        if _visible(session, principal, finding.id):
            result.findings.append(finding.id)
    if earlier is not None and _visible(session, principal, earlier.id):
        result.staydown_of = earlier.id
    return result


def scan_files(
    db: Database,
    principal: Principal,
    paths: list[tuple[Path, str]],
    *,
    all_frames: bool = False,
    index_kind: str = "auto",
    keys_dir: Path | None = None,
    on_file: Callable[[int, ScanResult], None] | None = None,
    progress: Callable[[float], None] | None = None,
    engine: str = "local",
    ray_cpus: int | None = None,
) -> list[ScanResult]:
    """Scan files ``(path on disk, label)``; a bad file gives an error result, the rest go on.

    ``engine`` ``local`` scans one file after another in this process; ``ray`` scans them in parallel
    on a local Ray cluster (``ray_cpus`` workers, default all CPUs). Either way the findings are
    decided here, in file order, so both engines record the same findings.
    """
    from likeness_ledger.detection import provenance  # noqa: PLC0415 - optional C2PA support

    if engine not in ("local", "ray"):
        raise InvalidInput(f"--engine: {engine!r} is not an engine (local or ray)")
    with db.read() as session:
        gallery = load_gallery(session, principal, index_kind=index_kind)
    scans: Iterable[tuple[int, FileScan]]
    if engine == "ray":
        from likeness_ledger.detection import distributed  # noqa: PLC0415 - optional dependency

        scans = distributed.scan_paths(gallery, paths, all_frames=all_frames, num_cpus=ray_cpus)
    else:
        scanner = Scanner(gallery, all_frames=all_frames)
        scans = ((i, scanner.scan(path, label=label, progress=progress)) for i, (path, label) in enumerate(paths))
    results: list[ScanResult] = []
    for i, scan in scans:
        path = paths[i][0]
        signed = bool(scan.matches) and not scan.error and provenance.signed_by_registry(keys_dir, path)
        with db.write() as session:
            result = judge(session, principal, scan, c2pa_valid=signed)
        results.append(result)
        if on_file is not None:
            on_file(i, result)
    return results


def scan_asset(
    db: Database,
    store: BlobStore,
    principal: Principal,
    asset_id: uuid.UUID,
    *,
    all_frames: bool = False,
    keys_dir: Path | None = None,
) -> ScanResult:
    """Scan a stored replica asset (decrypted for this internal use, which is recorded)."""
    asset, data = _asset_bytes(db, store, principal, asset_id, SCAN_PURPOSE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (asset.filename or "asset")
        path.write_bytes(data)
        return scan_files(db, principal, [(path, f"asset:{asset.id}")], all_frames=all_frames, keys_dir=keys_dir)[0]


# --- findings ----------------------------------------------------------------------------------


def get_finding(session: Session, principal: Principal, finding_id: uuid.UUID) -> Finding:
    """One finding the caller may see."""
    finding = session.scalar(select(Finding).where(Finding.id == finding_id, finding_filter(principal)))
    if finding is None:
        raise NotFound(f"finding {finding_id} not found")
    return finding


def list_findings(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    performer_id: uuid.UUID | None = None,
    status: FindingStatus | None = None,
) -> tuple[list[Finding], int]:
    """Findings the caller may see, newest first."""
    where: list[Any] = [finding_filter(principal)]
    if performer_id is not None:
        where.append(Finding.performer_id == performer_id)
    if status is not None:
        where.append(Finding.status == status)
    total = session.scalar(select(func.count()).select_from(Finding).where(*where)) or 0
    rows = session.scalars(
        select(Finding).where(*where).order_by(Finding.created_at.desc(), Finding.id).limit(limit).offset(offset)
    )
    return list(rows), total


_NEXT: dict[FindingStatus, set[FindingStatus]] = {
    FindingStatus.OPEN: {FindingStatus.NOTICE_SENT, FindingStatus.REMOVED},
    FindingStatus.NOTICE_SENT: {FindingStatus.REMOVED},
    FindingStatus.REMOVED: {FindingStatus.COUNTER_NOTICED},
    FindingStatus.COUNTER_NOTICED: {FindingStatus.RESTORED, FindingStatus.REMOVED},
    FindingStatus.RESTORED: {FindingStatus.NOTICE_SENT},
}


def set_finding_status(session: Session, principal: Principal, finding_id: uuid.UUID, status: FindingStatus) -> Finding:
    """Move a finding through sent -> removed -> counter-notice (14-day clock) -> restored."""
    set_actor(session, principal.name)
    finding = get_finding(session, principal, finding_id)
    principal.require(Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="update finding")
    if status not in _NEXT[finding.status]:
        allowed = " or ".join(sorted(s.value for s in _NEXT[finding.status]))
        raise Conflict(
            f"status: cannot go from {finding.status.value} to {status.value} (from {finding.status.value}: {allowed})"
        )
    now = utcnow()
    if status is FindingStatus.RESTORED:
        assert finding.restore_not_before is not None
        if now < finding.restore_not_before:
            raise Conflict(
                f"status: the counter-notice's 14-day period runs until {finding.restore_not_before.isoformat()}"
            )
        finding.restored_at = now
    elif status is FindingStatus.NOTICE_SENT:
        finding.notice_sent_at = now
    elif status is FindingStatus.REMOVED:
        finding.removed_at = now
    elif status is FindingStatus.COUNTER_NOTICED:
        finding.counter_notice_at = now
        finding.restore_not_before = now + timedelta(days=COUNTER_NOTICE_DAYS)
    finding.status = status
    session.flush()
    return finding


def sign_cleared_output(db: Database, keys_dir: Path, principal: Principal, src: Path, dst: Path) -> set[uuid.UUID]:
    """Sign an output with the registry's C2PA key, only if a cleared usage report lists its SHA-256."""
    from likeness_ledger.detection import provenance  # noqa: PLC0415

    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="sign cleared output")
    digest = media.sha256_file(src)
    with db.read() as session:
        covered = cleared_performers(session, digest)
    if not covered:
        raise Conflict(f"{src.name}: no cleared usage report lists this file (sha256 {digest})")
    provenance.sign(
        keys_dir,
        src,
        dst,
        title=src.name,
        assertions={"sha256": digest, "performers": sorted(str(p) for p in covered), "signed_for": principal.name},
    )
    return covered
