"""The assistant learns from the operators: their situation feedback, and the retrained models.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "situation_feedback",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("messages_json", sa.Text(), nullable=False),
        sa.Column("recognized", sa.String(40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("corrected", sa.String(40), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_situation_feedback_conversation_id", "situation_feedback", ["conversation_id"])
    op.create_table(
        "situation_model",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("situation_model")
    op.drop_index("ix_situation_feedback_conversation_id", table_name="situation_feedback")
    op.drop_table("situation_feedback")
