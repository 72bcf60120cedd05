"""Detection routes: enrolment, scans (direct, of a stored asset, in the background), findings, notices."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path as FsPath
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from likeness_ledger.detection import jobs, notices, services
from likeness_ledger.detection import schemas as ds
from likeness_ledger.detection.models import FindingStatus
from likeness_ledger.errors import InvalidInput, PayloadTooLarge
from likeness_ledger.schemas import Page, page_of
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import CurrentPrincipal, Paging, ReadSession, State
from likeness_ledger.web.errors import ErrorBody

router = APIRouter(prefix="/detection", responses=ERROR_RESPONSES, tags=["detection"])

_BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_RAW_BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorBody, "description": "A form upload (multipart/form-data): send the file as the raw body"}
}
# A reference is a portrait or a short recording; it is decoded in memory, so it is kept small.
REFERENCE_MAX_BYTES = 64 * 1024 * 1024
FileName = Annotated[str, Query(min_length=1, max_length=300, description="the file's name, for reports")]


class UnsupportedMediaType(InvalidInput):
    """The body is not in a form the endpoint reads."""

    http_status = 415


def _require_raw_body(request: Request) -> None:
    """Refuse a form upload: its body is the form's encoding around the file, not the file itself."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type.startswith("multipart/"):
        raise UnsupportedMediaType(
            "body: send the file itself as the request body (Content-Type: application/octet-stream, "
            "e.g. curl --data-binary @FILE), not as a multipart/form-data form upload (curl -F)"
        )
    if content_type == "application/x-www-form-urlencoded":
        # curl -d @FILE sends this type and strips the file's line breaks: the bytes would be damaged.
        raise UnsupportedMediaType(
            "body: send the file with Content-Type: application/octet-stream (curl --data-binary @FILE); "
            "a form-encoded body (curl -d) does not carry a file's bytes unchanged"
        )


async def _spool(request: Request, folder: FsPath, name: str, limit: int) -> FsPath:
    """Write the raw body to a file in ``folder``, refusing more than ``limit`` bytes."""
    _require_raw_body(request)
    safe = FsPath(name).name or "upload"
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="scan-", suffix=FsPath(safe).suffix[:16], delete=False)  # noqa: SIM115
    path = FsPath(handle.name)
    size = 0
    with handle:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                handle.close()
                path.unlink(missing_ok=True)
                raise PayloadTooLarge(f"body: over the {limit}-byte upload limit")
            handle.write(chunk)
    return path


# --- enrolment ---------------------------------------------------------------------------------


@router.post("/references", status_code=201, openapi_extra=_BINARY_BODY, responses=_RAW_BODY_RESPONSES)
async def enrol_upload(
    request: Request,
    response: Response,
    state: State,
    principal: CurrentPrincipal,
    *,
    performer_id: Annotated[uuid.UUID, Query(description="performer the reference shows")],
    filename: FileName,
) -> ds.ReferenceOut:
    """Enrol a reference photo (or voice recording) sent as the raw body; only its embedding is kept."""
    limit = min(state.settings.max_upload_bytes, REFERENCE_MAX_BYTES)
    with tempfile.TemporaryDirectory() as folder:
        data = (await _spool(request, FsPath(folder), filename, limit)).read_bytes()
    ref, created = await anyio.to_thread.run_sync(
        lambda: services.enrol_upload(state.db, principal, performer_id, data, filename)
    )
    if not created:
        response.status_code = 200
    return ds.ReferenceOut.model_validate(ref)


@router.post("/references/from-asset", status_code=201)
def enrol_asset(
    state: State, principal: CurrentPrincipal, body: ds.EnrolAssetIn, response: Response
) -> ds.ReferenceOut:
    """Enrol a replica asset from the vault (an internal use, recorded like a release)."""
    ref, created = services.enrol_asset(state.db, state.store, principal, body.asset_id)
    if not created:
        response.status_code = 200
    return ds.ReferenceOut.model_validate(ref)


@router.get("/references")
def list_references(
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    performer_id: uuid.UUID | None = None,
    pending: Annotated[
        bool | None, Query(description="true: only those waiting for the union's approval; false: only approved")
    ] = None,
) -> Page[ds.ReferenceOut]:
    """Enrolled references the caller may see."""
    rows, total = services.list_references(
        session, principal, limit=page.limit, offset=page.offset, performer_id=performer_id, pending=pending
    )
    return page_of(ds.ReferenceOut, rows, total, limit=page.limit, offset=page.offset)


@router.post("/references/{reference_id}/approve")
def approve_reference(
    state: State, principal: CurrentPrincipal, reference_id: Annotated[uuid.UUID, Path()]
) -> ds.ReferenceOut:
    """Approve a reference a performer uploaded, so that the union's and producers' scans use it (union, admin).

    A performer's own upload is used in their own scans at once; anyone else's scans wait for this,
    since an account could otherwise enrol a stranger's face as its own.
    """
    with state.db.write() as session:
        return ds.ReferenceOut.model_validate(services.approve_reference(session, principal, reference_id))


@router.post("/references/reembed")
def reembed(state: State, principal: CurrentPrincipal, body: ds.ReembedIn) -> list[ds.ReembedOutcomeOut]:
    """Enrol again the references made with an earlier model (scans leave those out).

    Asset-sourced ones are re-embedded from the vault and replaced; uploaded ones kept no bytes
    and come back as ``needs_upload``.
    """
    outcomes = services.reembed(state.db, state.store, principal, performer_id=body.performer_id)
    return [ds.ReembedOutcomeOut.model_validate(o) for o in outcomes]


@router.delete("/performers/{performer_id}/references")
def withdraw(
    state: State,
    principal: CurrentPrincipal,
    performer_id: Annotated[uuid.UUID, Path()],
    reference_id: uuid.UUID | None = None,
) -> ds.WithdrawOut:
    """Withdraw enrolment: delete the performer's embeddings (all, or one reference)."""
    with state.db.write() as session:
        deleted = services.withdraw(session, principal, performer_id, reference_id=reference_id)
    return ds.WithdrawOut(performer_id=performer_id, deleted=deleted)


# --- scanning ----------------------------------------------------------------------------------


@router.post("/scan", openapi_extra=_BINARY_BODY, responses=_RAW_BODY_RESPONSES)
async def scan_upload(
    request: Request,
    state: State,
    principal: CurrentPrincipal,
    filename: FileName,
    all_frames: bool = False,
) -> ds.ScanOut:
    """Scan an uploaded image, video or audio file (raw body) against the gallery."""
    with tempfile.TemporaryDirectory() as folder:
        path = await _spool(request, FsPath(folder), filename, state.settings.max_upload_bytes)
        results = await anyio.to_thread.run_sync(
            lambda: services.scan_files(
                state.db, principal, [(path, filename)], all_frames=all_frames, keys_dir=state.settings.keys_dir
            )
        )
    return ds.ScanOut.of(results[0])


@router.post("/scan-asset")
def scan_asset(state: State, principal: CurrentPrincipal, body: ds.ScanAssetIn) -> ds.ScanOut:
    """Scan a stored replica asset (decrypted for this internal use, which is recorded)."""
    result = services.scan_asset(
        state.db, state.store, principal, body.asset_id, all_frames=body.all_frames, keys_dir=state.settings.keys_dir
    )
    return ds.ScanOut.of(result)


@router.post("/jobs", status_code=202, openapi_extra=_BINARY_BODY, responses=_RAW_BODY_RESPONSES)
async def submit_job(
    request: Request, state: State, principal: CurrentPrincipal, filename: FileName, all_frames: bool = False
) -> ds.JobOut:
    """Scan a large file in the background; poll ``GET /detection/jobs/{id}`` for the result."""
    folder = jobs.spool_dir(state.settings.data_dir)
    path = await _spool(request, folder, filename, state.settings.max_upload_bytes)
    job = jobs.submit(state.db, principal, path, filename, keys_dir=state.settings.keys_dir, all_frames=all_frames)
    return ds.JobOut(
        id=job.id,
        status="queued",
        filename=job.filename,
        result=None,
        error=None,
        created_at=job.created_at,
        finished_at=None,
    )


@router.get("/jobs/{job_id}")
def get_job(state: State, principal: CurrentPrincipal, job_id: Annotated[uuid.UUID, Path()]) -> ds.JobOut:
    """A background scan of the caller's: status, and the result when done."""
    job = jobs.get_job(state.db, principal, job_id)
    return ds.JobOut(
        id=job.id,
        status=job.status.value,
        filename=job.filename,
        result=None if job.result is None else [ds.ScanOut.model_validate(r) for r in job.result],
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


# --- findings and notices ----------------------------------------------------------------------


@router.get("/findings")
def list_findings(
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    performer_id: uuid.UUID | None = None,
    status: FindingStatus | None = None,
) -> Page[ds.FindingOut]:
    """Findings the caller may see (the performer's own; all for the union)."""
    rows, total = services.list_findings(
        session, principal, limit=page.limit, offset=page.offset, performer_id=performer_id, status=status
    )
    return page_of(ds.FindingOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/findings/{finding_id}")
def get_finding(
    session: ReadSession, principal: CurrentPrincipal, finding_id: Annotated[uuid.UUID, Path()]
) -> ds.FindingOut:
    """One finding."""
    return ds.FindingOut.model_validate(services.get_finding(session, principal, finding_id))


@router.post("/findings/{finding_id}/status")
def set_status(
    state: State, principal: CurrentPrincipal, finding_id: Annotated[uuid.UUID, Path()], body: ds.FindingStatusIn
) -> ds.FindingOut:
    """Record a takedown step: notice_sent, removed, counter_noticed (starts the 14-day clock), restored."""
    with state.db.write() as session:
        return ds.FindingOut.model_validate(services.set_finding_status(session, principal, finding_id, body.status))


@router.post("/findings/{finding_id}/notices", status_code=201)
def create_notice(
    state: State, principal: CurrentPrincipal, finding_id: Annotated[uuid.UUID, Path()], body: ds.NoticeIn
) -> ds.NoticeOut:
    """Draft a takedown notice (NO FAKES draft fields A-G) from a finding."""
    with state.db.write() as session:
        notice = notices.build_notice(session, principal, finding_id, **body.model_dump())
        return ds.NoticeOut.model_validate(notice)


@router.get("/findings/{finding_id}/notices")
def list_notices(
    session: ReadSession, principal: CurrentPrincipal, page: Paging, finding_id: Annotated[uuid.UUID, Path()]
) -> Page[ds.NoticeOut]:
    """The notices drafted for a finding, newest first (404 if the caller may not see the finding)."""
    rows, total = notices.list_notices(session, principal, finding_id, limit=page.limit, offset=page.offset)
    return page_of(ds.NoticeOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/notices/{notice_id}")
def get_notice(
    session: ReadSession, principal: CurrentPrincipal, notice_id: Annotated[uuid.UUID, Path()]
) -> ds.NoticeOut:
    """A stored notice as JSON."""
    return ds.NoticeOut.model_validate(notices.get_notice(session, principal, notice_id))


@router.get(
    "/notices/{notice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_notice_pdf(
    session: ReadSession, principal: CurrentPrincipal, notice_id: Annotated[uuid.UUID, Path()]
) -> Response:
    """The notice as a PDF for the sender to sign."""
    notice = notices.get_notice(session, principal, notice_id)
    return Response(
        notices.render_pdf(notice.document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="takedown-{notice.id}.pdf"'},
    )
