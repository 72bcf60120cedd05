"""Usage reports: submitted by producers, cleared by the rules engine, never dropped.

A report is cleared with :func:`likeness_ledger.consent.services.evaluate` on the first and the
last day of use (a consent that lapses in between fails the report). A cleared report becomes a
payment obligation (:mod:`.obligations`); one that fails is stored as a violation, which the
performer and the union see like any other report.

Reports are immutable. An amendment is a new report naming the one it ``supersedes``: the old
report stays on file, marked superseded, and what it owed is reversed. The same report sent
twice (same content, same ``supersedes``) is recognised by its fingerprint and stored once.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Final, Protocol

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent.clearance import Decision
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.consent.rules.policy import Reason
from likeness_ledger.db import set_actor
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer, ReplicaAsset
from likeness_ledger.usage import schemas
from likeness_ledger.usage.models import Obligation, ReportStatus, UsageOutput, UsageReport
from likeness_ledger.usage.obligations import reverse_report, usage_obligation
from likeness_ledger.usage.visibility import report_filter

#: Digests looked up per query, well under every database's bound-parameter limit.
_CHUNK = 500


#: The reason a report of a replica that is not on file fails (FORMAT.md code NO_CONSENT).
UNREGISTERED_REPLICA: Final = {
    "code": "NO_CONSENT",
    "message": "the replica used is not on file (no asset_id): no consent can cover it",
    "rule": "usage: a replica is registered, and its use consented to, before it is used",
}


class Evaluator(Protocol):
    """The consent service's ``evaluate``: a clearance question answered from the stored grants."""

    def __call__(self, session: Session, query: ClearanceQuery, *, rates: RateTable | None = None) -> Decision:
        """Decide ``query`` from the grants on file."""


def consent_evaluator() -> Evaluator:
    """The consent service's ``evaluate`` (imported when first needed: the services form a cycle)."""
    evaluate: Evaluator = importlib.import_module("likeness_ledger.consent.services").evaluate
    return evaluate


def today_utc() -> date:
    """Today's date in UTC, the day obligations are recorded on."""
    return datetime.now(UTC).date()


def fingerprint(data: schemas.UsageReportIn) -> str:
    """SHA-256 of a report's canonical content; outputs count as a set."""
    content = data.model_dump(mode="json")
    content["outputs"] = sorted(set(data.outputs))
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _queries(data: schemas.UsageReportIn, performer_id: uuid.UUID) -> list[ClearanceQuery]:
    days = sorted({data.used_from, data.used_until})
    return [
        ClearanceQuery(
            action="use",
            performer_id=performer_id,
            production_id=data.production_id,
            on=day,
            role=data.role,
            replaces_in_person_work=data.replaces_in_person_work,
            asset_id=data.asset_id,
            use=data.use,
            estimated_days=data.estimated_days,
        )
        for day in days
    ]


def _merge(decisions: Sequence[Decision]) -> tuple[bool, list[dict[str, str]]]:
    """Allowed only if every day is; every distinct reason is kept."""
    seen: set[tuple[str, str]] = set()
    reasons: list[dict[str, str]] = []
    allowed = all(d.allowed for d in decisions)
    for decision in decisions:
        # A failed report lists the reasons it failed; a cleared one the reasons it cleared.
        if allowed or not decision.allowed:
            for reason in decision.reasons:
                entry = _reason(reason)
                if (entry["code"], entry["message"]) not in seen:
                    seen.add((entry["code"], entry["message"]))
                    reasons.append(entry)
    return allowed, reasons


def _reason(reason: Reason) -> dict[str, str]:
    return reason.to_report()


def _superseded(session: Session, principal: Principal, data: schemas.UsageReportIn) -> UsageReport:
    """The report an amendment replaces: visible, same production and performer, not yet replaced."""
    old = session.scalars(
        select(UsageReport).where(UsageReport.id == data.supersedes, report_filter(principal))
    ).first()
    if old is None:
        raise NotFound(f"supersedes: report {data.supersedes} not found")
    if old.production_id != data.production_id or old.performer_id != data.performer_id:
        raise InvalidInput("supersedes: an amendment must keep the production and the performer")
    newer = session.scalar(select(UsageReport.id).where(UsageReport.supersedes_id == old.id))
    if newer is not None:
        raise Conflict(f"supersedes: report {old.id} was already superseded by report {newer}")
    return old


def submit_report(
    session: Session,
    principal: Principal,
    data: schemas.UsageReportIn,
    *,
    rates: RateTable,
    today: date,
    evaluate: Evaluator | None = None,
) -> tuple[UsageReport, bool]:
    """Store and clear one usage report; returns the report and whether it is new.

    Resubmitting a report already on file returns the stored one (``False``) and changes nothing.
    """
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="report usage")
    production = registry.get_production(session, principal, data.production_id)
    performer = session.get(Performer, data.performer_id)
    if performer is None:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    if data.asset_id is not None:
        asset = session.get(ReplicaAsset, data.asset_id)
        if asset is None:
            raise NotFound(f"asset_id: asset {data.asset_id} not found")
        if asset.performer_id != performer.id:
            raise InvalidInput("asset_id: that replica is of a different performer")
    digest = fingerprint(data)
    existing = session.scalar(select(UsageReport).where(UsageReport.fingerprint == digest))
    if existing is not None:
        return existing, False
    old = _superseded(session, principal, data) if data.supersedes is not None else None
    if data.asset_id is None:
        # Consents name the replica they cover: a replica not on file cannot be covered.
        decisions: list[Decision] = []
        allowed, reasons = False, [UNREGISTERED_REPLICA]
    else:
        evaluator = evaluate or consent_evaluator()
        decisions = [evaluator(session, q, rates=rates) for q in _queries(data, performer.id)]
        allowed, reasons = _merge(decisions)
    report = UsageReport(
        production_id=production.id,
        producer_id=production.producer_id,
        performer_id=performer.id,
        asset_id=data.asset_id,
        use_key=data.use,
        role=data.role,
        medium=data.medium,
        used_from=data.used_from,
        used_until=data.used_until,
        estimated_days=data.estimated_days,
        estimated_by=data.estimated_by,
        replaces_in_person_work=data.replaces_in_person_work,
        fingerprint=digest,
        supersedes_id=old.id if old is not None else None,
        status=ReportStatus.CLEARED if allowed else ReportStatus.VIOLATION,
        reasons=json.dumps(reasons),
        reported_by=principal.name,
    )
    session.add(report)
    session.flush()
    session.add_all(UsageOutput(report_id=report.id, sha256=sha) for sha in sorted(set(data.outputs)))
    if old is not None:
        reverse_report(session, old, new_report_id=report.id, actor=principal.name, today=today)
    if allowed:
        usage_obligation(
            session,
            report,
            decisions[0],
            production=production,
            performer=performer,
            rates=rates,
            actor=principal.name,
            today=today,
        )
    session.flush()
    return report, True


def report_out(session: Session, report: UsageReport) -> schemas.UsageReportOut:
    """The response shape of a report, with its outputs, successor and obligation."""
    outputs = session.scalars(
        select(UsageOutput.sha256).where(UsageOutput.report_id == report.id).order_by(UsageOutput.sha256)
    ).all()
    superseded_by = session.scalar(select(UsageReport.id).where(UsageReport.supersedes_id == report.id))
    obligation_id = session.scalar(
        select(Obligation.id).where(Obligation.usage_report_id == report.id, Obligation.id == Obligation.root_id)
    )
    return schemas.UsageReportOut(
        id=report.id,
        production_id=report.production_id,
        producer_id=report.producer_id,
        performer_id=report.performer_id,
        asset_id=report.asset_id,
        use=report.use_key,
        role=report.role,
        medium=report.medium,
        used_from=report.used_from,
        used_until=report.used_until,
        estimated_days=report.estimated_days,
        estimated_by=report.estimated_by,
        replaces_in_person_work=report.replaces_in_person_work,
        outputs=list(outputs),
        supersedes=report.supersedes_id,
        superseded_by=superseded_by,
        status=report.status,
        reasons=[schemas.ReasonOut.model_validate(r) for r in json.loads(report.reasons)],
        obligation_id=obligation_id,
        reported_by=report.reported_by,
        created_at=report.created_at,
    )


def get_report(session: Session, principal: Principal, report_id: uuid.UUID) -> UsageReport:
    """One usage report the principal may see."""
    report = session.scalars(select(UsageReport).where(UsageReport.id == report_id, report_filter(principal))).first()
    if report is None:
        raise NotFound(f"usage report {report_id} not found")
    return report


def list_reports(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    status: ReportStatus | None = None,
    performer_id: uuid.UUID | None = None,
    production_id: uuid.UUID | None = None,
    current_only: bool = False,
) -> tuple[Sequence[UsageReport], int]:
    """Usage reports the principal may see, newest first; violations included unless filtered."""
    where: list[ColumnElement[bool]] = [report_filter(principal)]
    if status is not None:
        where.append(UsageReport.status == status)
    if performer_id is not None:
        where.append(UsageReport.performer_id == performer_id)
    if production_id is not None:
        where.append(UsageReport.production_id == production_id)
    if current_only:
        newer = aliased(UsageReport)
        where.append(~select(newer.id).where(newer.supersedes_id == UsageReport.id).exists())
    total = session.scalar(select(func.count()).select_from(UsageReport).where(*where)) or 0
    rows = session.scalars(
        select(UsageReport)
        .where(*where)
        .order_by(UsageReport.created_at.desc(), UsageReport.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total


def _chunks(digests: Iterable[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    for digest in dict.fromkeys(d.lower() for d in digests):
        batch.append(digest)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def reports_by_sha256(session: Session, digests: Iterable[str]) -> dict[str, list[UsageReport]]:
    """Every report (cleared, violation, superseded) naming each output digest, newest first.

    A system-level lookup for the detection service, which applies its own visibility.
    """
    found: dict[str, list[UsageReport]] = {}
    for batch in _chunks(digests):
        rows = session.execute(
            select(UsageOutput.sha256, UsageReport)
            .join(UsageReport, UsageReport.id == UsageOutput.report_id)
            .where(UsageOutput.sha256.in_(batch))
            .order_by(UsageReport.created_at.desc(), UsageReport.id)
        ).all()
        for sha, report in rows:
            found.setdefault(sha, []).append(report)
    return found


def outputs_by_sha256(session: Session, digests: Iterable[str]) -> dict[str, list[UsageReport]]:
    """The cleared, current (not superseded) reports covering each digest, newest first.

    An output can show several performers, each covered by a report of their own, so a digest
    maps to a list. A digest missing from the answer is media no cleared report accounts for.
    """
    newer = aliased(UsageReport)
    found: dict[str, list[UsageReport]] = {}
    for batch in _chunks(digests):
        rows = session.execute(
            select(UsageOutput.sha256, UsageReport)
            .join(UsageReport, UsageReport.id == UsageOutput.report_id)
            .where(
                UsageOutput.sha256.in_(batch),
                UsageReport.status == ReportStatus.CLEARED,
                ~select(newer.id).where(newer.supersedes_id == UsageReport.id).exists(),
            )
            .order_by(UsageReport.created_at.desc(), UsageReport.id)
        ).all()
        for sha, report in rows:
            found.setdefault(sha, []).append(report)
    return found
