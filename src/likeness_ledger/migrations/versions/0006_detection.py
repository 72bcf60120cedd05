"""detection

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import likeness_ledger.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MODALITY = sa.Enum("face", "voice", name="modality", native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "detection_findings",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("media_sha256", sa.String(length=64), nullable=False),
        sa.Column("media", sa.Enum("image", "video", "audio", name="mediakind", native_enum=False, length=32), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("modality", _MODALITY, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("staydown_of", sa.Uuid(), nullable=True),
        sa.Column("reported_by", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "notice_sent", "removed", "counter_noticed", "restored",
                name="findingstatus", native_enum=False, length=32,
            ),
            nullable=False,
        ),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("notice_sent_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counter_notice_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restore_not_before", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restored_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["performer_id"], ["performers.id"], name=op.f("fk_detection_findings_performer_id_performers")),
        sa.ForeignKeyConstraint(["reported_by"], ["accounts.id"], name=op.f("fk_detection_findings_reported_by_accounts")),
        sa.ForeignKeyConstraint(
            ["staydown_of"], ["detection_findings.id"], name=op.f("fk_detection_findings_staydown_of_detection_findings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_findings")),
        sa.UniqueConstraint("performer_id", "media_sha256", name=op.f("uq_detection_findings_performer_id")),
    )
    with op.batch_alter_table("detection_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_findings_media_sha256"), ["media_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_findings_pdq"), ["pdq"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_findings_performer_id"), ["performer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_findings_reported_by"), ["reported_by"], unique=False)

    op.create_table(
        "detection_jobs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="jobstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("spool_path", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_detection_jobs_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_jobs")),
    )
    with op.batch_alter_table("detection_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_jobs_account_id"), ["account_id"], unique=False)

    op.create_table(
        "detection_notices",
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], name=op.f("fk_detection_notices_created_by_accounts")),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["detection_findings.id"], name=op.f("fk_detection_notices_finding_id_detection_findings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_notices")),
    )
    with op.batch_alter_table("detection_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_notices_finding_id"), ["finding_id"], unique=False)

    op.create_table(
        "detection_references",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("modality", _MODALITY, nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.Enum("asset", "upload", name="referencesource", native_enum=False, length=32), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["replica_assets.id"], name=op.f("fk_detection_references_asset_id_replica_assets")),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], name=op.f("fk_detection_references_created_by_accounts")),
        sa.ForeignKeyConstraint(["performer_id"], ["performers.id"], name=op.f("fk_detection_references_performer_id_performers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_references")),
        sa.UniqueConstraint(
            "performer_id", "modality", "source_sha256", "model", name=op.f("uq_detection_references_performer_id")
        ),
    )
    with op.batch_alter_table("detection_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_references_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_references_performer_id"), ["performer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("detection_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_references_performer_id"))
        batch_op.drop_index(batch_op.f("ix_detection_references_asset_id"))
    op.drop_table("detection_references")
    with op.batch_alter_table("detection_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_notices_finding_id"))
    op.drop_table("detection_notices")
    with op.batch_alter_table("detection_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_jobs_account_id"))
    op.drop_table("detection_jobs")
    with op.batch_alter_table("detection_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_findings_reported_by"))
        batch_op.drop_index(batch_op.f("ix_detection_findings_performer_id"))
        batch_op.drop_index(batch_op.f("ix_detection_findings_pdq"))
        batch_op.drop_index(batch_op.f("ix_detection_findings_media_sha256"))
    op.drop_table("detection_findings")
