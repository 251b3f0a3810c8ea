"""The abuse audit says why: the operator's reason and the signal behind a step (the recognizer's
``hater``, confirmed by the operator), for the supervisors told of it and the admins who review it.

Revision ID: 0011_safety
Revises: 0010_ideas
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_safety"
down_revision: str | None = "0010_ideas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("abuse_audit") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("signal", sa.String(20), nullable=True))
    op.create_index("ix_abuse_audit_ts", "abuse_audit", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_abuse_audit_ts", table_name="abuse_audit")
    with op.batch_alter_table("abuse_audit") as batch:
        batch.drop_column("signal")
        batch.drop_column("reason")
