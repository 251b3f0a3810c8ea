"""The visitor's NPS answer (0 to 10) beside their 1-5 rating of a conversation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_rating") as batch:
        batch.add_column(sa.Column("nps", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_rating") as batch:
        batch.drop_column("nps")
