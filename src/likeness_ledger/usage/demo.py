"""The demo world's money: Maya's scan-only day, a cleared use, a violation, payments.

Northlight Pictures reports two uses of Maya Okafor's face scan in Stadium: the crowd scenes her
consent covers (cleared, owed) and a trailer shot it does not cover (kept as a violation, which
Maya and the union see). Her scan-only call is owed a day. Without the ``rates_include_unverified``
setting the 2026 background day scale is a derived [U] figure, so those lines wait for a rate and
the union sets them by adjustment, citing its rate sheet. Northlight then pays part of what it owes.
Seeding twice adds nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from likeness_ledger.accounts.services import account_by_name, principal_for
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import ReplicaAsset
from likeness_ledger.runtime import Runtime
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage import services
from likeness_ledger.usage.models import ReportStatus, UsageReport
from likeness_ledger.usage.schemas import AdjustmentIn, PaymentIn, UsageReportIn

#: What the union's rate sheet says a 2026 background day is (RULES.md §2 gives ~231.00 [U]).
DEMO_BACKGROUND_DAY = Decimal("231.00")


def demo_output(label: str) -> str:
    """SHA-256 of a stand-in output file of the demo (the detection demo can reuse it)."""
    return hashlib.sha256(f"likeness-ledger demo output: {label}".encode()).hexdigest()


def seed_usage(rt: Runtime) -> None:
    """Seed the demo's usage reports, obligations, adjustments and payments once."""
    rates = obl.rates_table(include_unverified=rt.settings.rates_include_unverified)
    today = services.today_utc()
    with rt.db.write() as session:
        if session.scalar(select(UsageReport.id).limit(1)) is not None:
            return
        union = principal_for(session, account_by_name(session, "union"))
        studio = principal_for(session, account_by_name(session, "northlight"))
        maya = principal_for(session, account_by_name(session, "maya"))
        asset = session.scalar(select(ReplicaAsset).where(ReplicaAsset.performer_id == maya.performer_id))
        if asset is None or asset.scan_session_id is None or maya.performer_id is None:
            return
        lines = obl.sync_scan_obligations(session, union, rates=rates, today=today)
        film = registry.get_scan_session(session, studio, asset.scan_session_id).production_id
        crowd = UsageReportIn(
            production_id=film,
            performer_id=maya.performer_id,
            asset_id=asset.id,
            use="stadium-crowd",
            role="background",
            medium="theatrical",
            used_from=date(2026, 10, 5),
            used_until=date(2026, 10, 7),
            estimated_days=3,
            estimated_by="Dana Kim, line producer",
            outputs=[demo_output("stadium sc40 crowd plate"), demo_output("stadium sc42 crowd plate")],
        )
        report, _ = services.submit_report(session, studio, crowd, rates=rates, today=today)
        trailer = crowd.model_copy(
            update={
                "use": "stadium-trailer",
                "used_from": date(2026, 11, 2),
                "used_until": date(2026, 11, 2),
                "estimated_days": 1,
                "medium": "trailer",
                "outputs": [demo_output("stadium trailer cut 3")],
            }
        )
        services.submit_report(session, studio, trailer, rates=rates, today=today)
        if report.status is not ReportStatus.CLEARED:
            return
        owed = [line for line in lines if line.performer_id == maya.performer_id]
        usage_root = services.report_out(session, report).obligation_id
        usage_lines = [obl.get_obligation(session, union, usage_root)] if usage_root is not None else []
        for line in owed + usage_lines:
            if line.pending_rate:
                days = 1 if line.scan_session_id else report.estimated_days
                obl.create_adjustment(
                    session,
                    union,
                    AdjustmentIn(
                        obligation_id=line.id,
                        amount=DEMO_BACKGROUND_DAY * days,
                        reason=f"{days} x {DEMO_BACKGROUND_DAY} from the union's 2026 background rate sheet",
                    ),
                    today=today,
                )
        if usage_root is not None:
            pay.record_payment(
                session,
                studio,
                PaymentIn(
                    obligation_id=usage_root, amount=Decimal("500.00"), paid_on=date(2026, 10, 20), reference="NL-1042"
                ),
            )
        for line in owed:
            pay.record_payment(
                session,
                studio,
                PaymentIn(
                    obligation_id=line.id, amount=DEMO_BACKGROUND_DAY, paid_on=date(2026, 9, 30), reference="NL-0977"
                ),
            )
