"""Background scans: a job row per upload and a worker thread per job.

Large videos take minutes; the API answers at once with the job's id and the client polls it. The
upload is spooled to the data folder and deleted when the job ends, whatever the outcome.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import Database, utcnow
from likeness_ledger.detection import schemas, services
from likeness_ledger.detection.models import JobStatus, ScanJob
from likeness_ledger.errors import NotFound


def spool_dir(data_dir: Path) -> Path:
    """Where uploads wait for their job."""
    folder = data_dir / "scan-spool"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def submit(
    db: Database, principal: Principal, spooled: Path, filename: str, *, keys_dir: Path | None, all_frames: bool = False
) -> ScanJob:
    """Record a job for a spooled file and start its worker thread."""
    with db.write() as session:
        job = ScanJob(account_id=principal.account_id, filename=filename[:300], spool_path=str(spooled))
        session.add(job)
        session.flush()
        job_id = job.id
    worker = threading.Thread(
        target=run, args=(db, principal, job_id, keys_dir, all_frames), name=f"scan-job-{job_id}", daemon=True
    )
    worker.start()
    return job


def run(db: Database, principal: Principal, job_id: uuid.UUID, keys_dir: Path | None, all_frames: bool) -> None:
    """Run one job to the end, storing the result or the error."""
    with db.write() as session:
        job = session.get(ScanJob, job_id)
        if job is None or job.status is not JobStatus.QUEUED or job.spool_path is None:
            return
        job.status = JobStatus.RUNNING
        path, name = Path(job.spool_path), job.filename
    try:
        results = services.scan_files(db, principal, [(path, name)], all_frames=all_frames, keys_dir=keys_dir)
        # The same per-file report as a direct scan (findings, cleared_by, staydown_of): a job's result
        # leads on to its findings and their notices.
        result = [schemas.ScanOut.of(r).model_dump(mode="json") for r in results]
        status, error = JobStatus.DONE, None
    except Exception as exc:
        status, result, error = JobStatus.FAILED, None, f"{exc.__class__.__name__}: {exc}"
    finally:
        path.unlink(missing_ok=True)
    with db.write() as session:
        job = session.get(ScanJob, job_id)
        if job is not None:
            job.status, job.result, job.error = status, result, error
            job.spool_path = None
            job.finished_at = utcnow()


def get_job(db: Database, principal: Principal, job_id: uuid.UUID) -> ScanJob:
    """A job of the caller's own."""
    with db.read() as session:
        job = session.get(ScanJob, job_id)
        if job is None or job.account_id != principal.account_id:
            raise NotFound(f"job {job_id} not found")
        return job
