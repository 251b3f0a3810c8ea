"""Wait promises: every wait figure a visitor was shown, and how it ended.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wait_promise",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("made_at", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("estimate_s", sa.Integer(), nullable=False),
        sa.Column("low_s", sa.Integer(), nullable=False),
        sa.Column("high_s", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=False),
        sa.Column("wait_started_at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("settled_at", sa.Float(), nullable=True),
        sa.Column("waited_s", sa.Float(), nullable=True),
    )
    op.create_index("ix_wait_promise_conversation_id", "wait_promise", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_wait_promise_conversation_id", table_name="wait_promise")
    op.drop_table("wait_promise")
