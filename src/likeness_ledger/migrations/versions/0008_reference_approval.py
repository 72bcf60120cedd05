"""reference approval: a reference a performer uploads is used in others' scans once the union approves it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import likeness_ledger.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("detection_references", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_at", likeness_ledger.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_detection_references_approved_by_accounts"), "accounts", ["approved_by"], ["id"]
        )
    # References enrolled before review existed keep working as they did: approved when made, by no
    # one (approved_by stays empty, which is how an auditor tells them apart).
    op.execute("UPDATE detection_references SET approved_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("detection_references", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_detection_references_approved_by_accounts"), type_="foreignkey")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("approved_at")
