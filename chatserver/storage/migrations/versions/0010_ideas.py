"""Visitors' ideas: each distinct idea, and every visitor message that asked for it.

Revision ID: 0010_ideas
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_ideas"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_idea_status", "idea", ["status"])
    op.create_table(
        "idea_asker",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("idea_id", sa.Integer(), sa.ForeignKey("idea.id"), nullable=False),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(64), sa.ForeignKey("visitor.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("told_status", sa.String(20), nullable=True),
        sa.Column("news_seq", sa.Integer(), nullable=True),
        sa.Column("news_seen", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_idea_asker_message"),
    )
    op.create_index("ix_idea_asker_idea_id", "idea_asker", ["idea_id"])
    op.create_index("ix_idea_asker_visitor_id", "idea_asker", ["visitor_id"])


def downgrade() -> None:
    op.drop_index("ix_idea_asker_visitor_id", table_name="idea_asker")
    op.drop_index("ix_idea_asker_idea_id", table_name="idea_asker")
    op.drop_table("idea_asker")
    op.drop_index("ix_idea_status", table_name="idea")
    op.drop_table("idea")
