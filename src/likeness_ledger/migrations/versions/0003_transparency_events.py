"""transparency events: which performers each log leaf concerns; leaner log tables on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On SQLite the leaf index becomes the rowid itself, and nodes and links are clustered on their
# keys (WITHOUT ROWID): every append and every proof lookup touches one B-tree instead of two.
# PostgreSQL keeps the same BIGINT columns.
_LEAF_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # One place says which performers a leaf concerns: the link table below, which also holds
    # events about several performers. The single column from 0002 (and its index, which every
    # append had to maintain) goes.
    with op.batch_alter_table("log_leaves", schema=None, recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_leaves_performer_id"))
        batch_op.drop_column("performer_id")
        if sqlite:
            batch_op.alter_column("index", existing_type=sa.BigInteger(), type_=_LEAF_INDEX, autoincrement=False)
    if sqlite:
        with op.batch_alter_table(
            "log_nodes", schema=None, recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass
    op.create_table(
        "log_leaf_performers",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["leaf_index"], ["log_leaves.index"], name=op.f("fk_log_leaf_performers_leaf_index_log_leaves")
        ),
        sa.PrimaryKeyConstraint("performer_id", "leaf_index", name=op.f("pk_log_leaf_performers")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("log_leaf_performers")
    if sqlite:
        with op.batch_alter_table("log_nodes", schema=None, recreate="always"):
            pass
    with op.batch_alter_table("log_leaves", schema=None, recreate="always" if sqlite else "auto") as batch_op:
        if sqlite:
            batch_op.alter_column("index", existing_type=_LEAF_INDEX, type_=sa.BigInteger(), autoincrement=False)
        batch_op.add_column(sa.Column("performer_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_log_leaves_performer_id"), ["performer_id"], unique=False)
