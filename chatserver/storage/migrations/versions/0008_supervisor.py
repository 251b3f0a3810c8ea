"""Supervisors whisper to the operator holding a chat: the whispers, kept apart from messages.

Revision ID: 0008_supervisor
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_supervisor"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "whisper",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
    )
    op.create_index("ix_whisper_conversation_id", "whisper", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_whisper_conversation_id", table_name="whisper")
    op.drop_table("whisper")
