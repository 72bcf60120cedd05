"""consent grants and requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import likeness_ledger.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def _scope() -> sa.Enum:
    return _enum("consentscope", "creation", "use")


def _status() -> sa.Enum:
    return _enum("requeststatus", "pending", "approved", "partially_approved", "refused", "sent_back", "withdrawn")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[likeness_ledger.db.UTCDateTime]:
    return sa.Column(name, likeness_ledger.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "consent_requests",
        sa.Column("producer_id", sa.Uuid(), nullable=False),
        sa.Column("production_id", sa.Uuid(), nullable=False),
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("scope", _scope(), nullable=False),
        sa.Column("replica_asset_id", sa.Uuid(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("proposed_daily_pay", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", _status(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "expires_on IS NULL OR valid_from IS NULL OR expires_on >= valid_from",
            name=op.f("ck_consent_requests_expiry_after_start"),
        ),
        sa.CheckConstraint(
            "scope = 'creation' OR replica_asset_id IS NOT NULL", name=op.f("ck_consent_requests_use_names_replica")
        ),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performers.id"], name=op.f("fk_consent_requests_performer_id_performers")
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producers.id"], name=op.f("fk_consent_requests_producer_id_producers")
        ),
        sa.ForeignKeyConstraint(
            ["production_id"], ["productions.id"], name=op.f("fk_consent_requests_production_id_productions")
        ),
        sa.ForeignKeyConstraint(
            ["replica_asset_id"],
            ["replica_assets.id"],
            name=op.f("fk_consent_requests_replica_asset_id_replica_assets"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["accounts.id"], name=op.f("fk_consent_requests_requested_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
    )
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_requests_performer_id"), ["performer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_requests_producer_id"), ["producer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_requests_production_id"), ["production_id"], unique=False)

    op.create_table(
        "consent_request_uses",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["consent_requests.id"], name=op.f("fk_consent_request_uses_request_id_consent_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_request_uses")),
        sa.UniqueConstraint("request_id", "key", name=op.f("uq_consent_request_uses_request_id")),
    )
    with op.batch_alter_table("consent_request_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_request_uses_request_id"), ["request_id"], unique=False)

    op.create_table(
        "consent_request_events",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("status", _status(), nullable=False),
        _timestamp("at"),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_consent_request_events_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["consent_requests.id"], name=op.f("fk_consent_request_events_request_id_consent_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_request_events")),
    )
    with op.batch_alter_table("consent_request_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_request_events_request_id"), ["request_id"], unique=False)

    op.create_table(
        "consent_grants",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("scope", _scope(), nullable=False),
        sa.Column("replica_asset_id", sa.Uuid(), nullable=True),
        sa.Column("production_id", sa.Uuid(), nullable=False),
        sa.Column("specific", sa.Boolean(), nullable=False),
        sa.Column("specific_found_by", sa.Uuid(), nullable=True),
        _timestamp("specific_found_at", nullable=True),
        sa.Column("separately_signed", sa.Boolean(), nullable=False),
        sa.Column("signed_by", _enum("signer", "performer", "authorized_representative", "union"), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("representation", _enum("representation", "union", "counsel", "none"), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "expires_on IS NULL OR valid_from IS NULL OR expires_on >= valid_from",
            name=op.f("ck_consent_grants_expiry_after_start"),
        ),
        sa.CheckConstraint(
            "scope = 'creation' OR replica_asset_id IS NOT NULL", name=op.f("ck_consent_grants_use_names_replica")
        ),
        sa.ForeignKeyConstraint(
            ["document_sha256"], ["vault_blobs.sha256"], name=op.f("fk_consent_grants_document_sha256_vault_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performers.id"], name=op.f("fk_consent_grants_performer_id_performers")
        ),
        sa.ForeignKeyConstraint(
            ["production_id"], ["productions.id"], name=op.f("fk_consent_grants_production_id_productions")
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["accounts.id"], name=op.f("fk_consent_grants_recorded_by_accounts")),
        sa.ForeignKeyConstraint(
            ["replica_asset_id"], ["replica_assets.id"], name=op.f("fk_consent_grants_replica_asset_id_replica_assets")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["consent_requests.id"], name=op.f("fk_consent_grants_request_id_consent_requests")
        ),
        sa.ForeignKeyConstraint(
            ["specific_found_by"], ["accounts.id"], name=op.f("fk_consent_grants_specific_found_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grants")),
    )
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_grants_performer_id"), ["performer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_grants_production_id"), ["production_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_grants_replica_asset_id"), ["replica_asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_grants_request_id"), ["request_id"], unique=False)

    op.create_table(
        "consent_grant_uses",
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["consent_grants.id"], name=op.f("fk_consent_grant_uses_grant_id_consent_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grant_uses")),
        sa.UniqueConstraint("grant_id", "key", name=op.f("uq_consent_grant_uses_grant_id")),
    )
    with op.batch_alter_table("consent_grant_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_grant_uses_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "grant_revocations",
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["consent_grants.id"], name=op.f("fk_grant_revocations_grant_id_consent_grants")
        ),
        sa.ForeignKeyConstraint(["revoked_by"], ["accounts.id"], name=op.f("fk_grant_revocations_revoked_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_revocations")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_grant_revocations_grant_id")),
    )


def downgrade() -> None:
    op.drop_table("grant_revocations")
    with op.batch_alter_table("consent_grant_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_grant_uses_grant_id"))
    op.drop_table("consent_grant_uses")
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        for column in ("request_id", "replica_asset_id", "production_id", "performer_id"):
            batch_op.drop_index(batch_op.f(f"ix_consent_grants_{column}"))
    op.drop_table("consent_grants")
    with op.batch_alter_table("consent_request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_request_events_request_id"))
    op.drop_table("consent_request_events")
    with op.batch_alter_table("consent_request_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_request_uses_request_id"))
    op.drop_table("consent_request_uses")
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        for column in ("production_id", "producer_id", "performer_id"):
            batch_op.drop_index(batch_op.f(f"ix_consent_requests_{column}"))
    op.drop_table("consent_requests")
