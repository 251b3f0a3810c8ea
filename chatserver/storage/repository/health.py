"""Whether the database answers at all: the readiness probe's one statement."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def ping_database(engine: Engine) -> None:
    """``SELECT 1`` on a connection from the pool; raises whatever the driver raises when it cannot."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
