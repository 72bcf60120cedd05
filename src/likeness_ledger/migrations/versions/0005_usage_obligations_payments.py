"""usage reports, payment obligations, payments and allocations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:20:00

Money columns are BIGINT cents (``likeness_ledger.usage.models.Cents``): exact on SQLite and
PostgreSQL alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import likeness_ledger.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_reports",
        sa.Column("production_id", sa.Uuid(), nullable=False),
        sa.Column("producer_id", sa.Uuid(), nullable=False),
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("use_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("medium", sa.String(length=64), nullable=False),
        sa.Column("used_from", sa.Date(), nullable=False),
        sa.Column("used_until", sa.Date(), nullable=False),
        sa.Column("estimated_days", sa.Integer(), nullable=False),
        sa.Column("estimated_by", sa.String(length=200), nullable=False),
        sa.Column("replaces_in_person_work", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status", sa.Enum("cleared", "violation", name="reportstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("estimated_days >= 0", name=op.f("ck_usage_reports_days_not_negative")),
        sa.CheckConstraint("used_until >= used_from", name=op.f("ck_usage_reports_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["replica_assets.id"], name=op.f("fk_usage_reports_asset_id_replica_assets")
        ),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performers.id"], name=op.f("fk_usage_reports_performer_id_performers")
        ),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_usage_reports_producer_id_producers")),
        sa.ForeignKeyConstraint(
            ["production_id"], ["productions.id"], name=op.f("fk_usage_reports_production_id_productions")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["usage_reports.id"], name=op.f("fk_usage_reports_supersedes_id_usage_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_reports")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_usage_reports_fingerprint")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_usage_reports_supersedes_id")),
    )
    op.create_index(op.f("ix_usage_reports_asset_id"), "usage_reports", ["asset_id"], unique=False)
    op.create_index(op.f("ix_usage_reports_performer_id"), "usage_reports", ["performer_id"], unique=False)
    op.create_index(op.f("ix_usage_reports_producer_id"), "usage_reports", ["producer_id"], unique=False)
    op.create_index(op.f("ix_usage_reports_production_id"), "usage_reports", ["production_id"], unique=False)
    op.create_table(
        "obligations",
        sa.Column("root_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "usage", "scan_only_call", "adjustment", "reversal", name="obligationkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("producer_id", sa.Uuid(), nullable=False),
        sa.Column("production_id", sa.Uuid(), nullable=False),
        sa.Column("usage_report_id", sa.Uuid(), nullable=True),
        sa.Column("scan_session_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("pending_rate", sa.Boolean(), nullable=False),
        sa.Column("residuals_due", sa.Boolean(), nullable=False),
        sa.Column("rate_agreement", sa.String(length=64), nullable=True),
        sa.Column("rate_category", sa.String(length=32), nullable=True),
        sa.Column("rate_per", sa.String(length=8), nullable=True),
        sa.Column("rate_effective", sa.Date(), nullable=True),
        sa.Column("rate_amount", sa.BigInteger(), nullable=True),
        sa.Column("rate_source", sa.Text(), nullable=True),
        sa.Column("rate_confidence", sa.String(length=8), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performers.id"], name=op.f("fk_obligations_performer_id_performers")
        ),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_obligations_producer_id_producers")),
        sa.ForeignKeyConstraint(
            ["production_id"], ["productions.id"], name=op.f("fk_obligations_production_id_productions")
        ),
        sa.ForeignKeyConstraint(["root_id"], ["obligations.id"], name=op.f("fk_obligations_root_id_obligations")),
        sa.ForeignKeyConstraint(
            ["scan_session_id"], ["scan_sessions.id"], name=op.f("fk_obligations_scan_session_id_scan_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["usage_report_id"], ["usage_reports.id"], name=op.f("fk_obligations_usage_report_id_usage_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint("scan_session_id", name=op.f("uq_obligations_scan_session_id")),
    )
    op.create_index("ix_obligations_incurred_on", "obligations", ["incurred_on"], unique=False)
    op.create_index("ix_obligations_performer_incurred", "obligations", ["performer_id", "incurred_on"], unique=False)
    op.create_index(op.f("ix_obligations_producer_id"), "obligations", ["producer_id"], unique=False)
    op.create_index(op.f("ix_obligations_production_id"), "obligations", ["production_id"], unique=False)
    op.create_index(op.f("ix_obligations_root_id"), "obligations", ["root_id"], unique=False)
    op.create_index(op.f("ix_obligations_usage_report_id"), "obligations", ["usage_report_id"], unique=False)
    op.create_table(
        "usage_outputs",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["usage_reports.id"], name=op.f("fk_usage_outputs_report_id_usage_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_outputs")),
        sa.UniqueConstraint("report_id", "sha256", name=op.f("uq_usage_outputs_report_id")),
    )
    op.create_index(op.f("ix_usage_outputs_report_id"), "usage_outputs", ["report_id"], unique=False)
    op.create_index(op.f("ix_usage_outputs_sha256"), "usage_outputs", ["sha256"], unique=False)
    op.create_table(
        "payments",
        sa.Column("producer_id", sa.Uuid(), nullable=False),
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["obligation_id"], ["obligations.id"], name=op.f("fk_payments_obligation_id_obligations")
        ),
        sa.ForeignKeyConstraint(["performer_id"], ["performers.id"], name=op.f("fk_payments_performer_id_performers")),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_payments_producer_id_producers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("producer_id", "reference", name=op.f("uq_payments_producer_id")),
    )
    op.create_index(op.f("ix_payments_obligation_id"), "payments", ["obligation_id"], unique=False)
    op.create_index("ix_payments_paid_on", "payments", ["paid_on"], unique=False)
    op.create_index("ix_payments_performer_paid", "payments", ["performer_id", "paid_on"], unique=False)
    op.create_index(op.f("ix_payments_producer_id"), "payments", ["producer_id"], unique=False)
    op.create_table(
        "payment_allocations",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"], ["obligations.id"], name=op.f("fk_payment_allocations_obligation_id_obligations")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_allocations_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    op.create_index(
        op.f("ix_payment_allocations_obligation_id"), "payment_allocations", ["obligation_id"], unique=False
    )
    op.create_index(op.f("ix_payment_allocations_payment_id"), "payment_allocations", ["payment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_allocations_payment_id"), table_name="payment_allocations")
    op.drop_index(op.f("ix_payment_allocations_obligation_id"), table_name="payment_allocations")
    op.drop_table("payment_allocations")
    op.drop_index(op.f("ix_payments_producer_id"), table_name="payments")
    op.drop_index("ix_payments_performer_paid", table_name="payments")
    op.drop_index("ix_payments_paid_on", table_name="payments")
    op.drop_index(op.f("ix_payments_obligation_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_usage_outputs_sha256"), table_name="usage_outputs")
    op.drop_index(op.f("ix_usage_outputs_report_id"), table_name="usage_outputs")
    op.drop_table("usage_outputs")
    op.drop_index(op.f("ix_obligations_usage_report_id"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_root_id"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_production_id"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_producer_id"), table_name="obligations")
    op.drop_index("ix_obligations_performer_incurred", table_name="obligations")
    op.drop_index("ix_obligations_incurred_on", table_name="obligations")
    op.drop_table("obligations")
    op.drop_index(op.f("ix_usage_reports_production_id"), table_name="usage_reports")
    op.drop_index(op.f("ix_usage_reports_producer_id"), table_name="usage_reports")
    op.drop_index(op.f("ix_usage_reports_performer_id"), table_name="usage_reports")
    op.drop_index(op.f("ix_usage_reports_asset_id"), table_name="usage_reports")
    op.drop_table("usage_reports")
