"""The indexes the reports read by: conversations by creation time, each conversation's first
operator message, and its events by kind.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversation_created", "conversation", ["created_at"])
    op.create_index("ix_message_conversation_sender_ts", "message", ["conversation_id", "sender", "ts"])
    op.create_index(
        "ix_conversation_event_conversation_kind_ts", "conversation_event", ["conversation_id", "kind", "ts"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_event_conversation_kind_ts", table_name="conversation_event")
    op.drop_index("ix_message_conversation_sender_ts", table_name="message")
    op.drop_index("ix_conversation_created", table_name="conversation")
