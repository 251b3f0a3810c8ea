"""Abusive visitors: the blocks the server respects, and the audit of every boundary step.

Revision ID: 0009
Revises: 0008_supervisor
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008_supervisor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visitor_block",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("lifted_at", sa.Float(), nullable=True),
        sa.Column("lifted_by", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
    )
    op.create_index("ix_visitor_block_visitor_id", "visitor_block", ["visitor_id"])
    op.create_index("ix_visitor_block_customer_id", "visitor_block", ["customer_id"])
    op.create_table(
        "abuse_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("block_id", sa.Integer(), sa.ForeignKey("visitor_block.id"), nullable=True),
        sa.Column("until", sa.Float(), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
    )
    op.create_index("ix_abuse_audit_conversation_id", "abuse_audit", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_abuse_audit_conversation_id", table_name="abuse_audit")
    op.drop_table("abuse_audit")
    op.drop_index("ix_visitor_block_customer_id", table_name="visitor_block")
    op.drop_index("ix_visitor_block_visitor_id", table_name="visitor_block")
    op.drop_table("visitor_block")
