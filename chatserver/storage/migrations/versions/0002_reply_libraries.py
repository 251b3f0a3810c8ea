"""Reply libraries: the current replies, every version of them, usage counters.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("library", sa.String(100), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("response_id", sa.String(100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column(
            "updated_by", sa.Integer(), sa.ForeignKey("operator.id", ondelete="SET NULL"), nullable=True
        ),
        sa.UniqueConstraint("library", "language", "response_id", name="uq_reply_key"),
    )
    op.create_table(
        "reply_version",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("library", sa.String(100), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("response_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column(
            "operator_id", sa.Integer(), sa.ForeignKey("operator.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.UniqueConstraint("library", "language", "response_id", "version", name="uq_reply_version"),
    )
    op.create_table(
        "reply_usage",
        sa.Column("library", sa.String(100), primary_key=True),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("response_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for table in ("reply_usage", "reply_version", "reply"):
        op.drop_table(table)
