"""Server-wide settings: small key/value rows.

The instance secret, the hold message, cached cut-offs; several processes may
race to create one, and the first writer wins.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..db import read_transaction, write_transaction
from ._common import insert_if_absent
from .tables import SETTING

# The cached Pareto cut-offs of the customer segments (JSON text).
SEGMENTS_SETTING = "customer_segments"


def get_setting(engine: Engine, *, key: str) -> str | None:
    with read_transaction(engine) as conn:
        return conn.execute(select(SETTING.c.value).where(SETTING.c.key == key)).scalar_one_or_none()


def set_setting_if_absent(engine: Engine, *, key: str, value: str) -> str:
    """Store `value` unless the key exists; the value that won (first writer wins)."""
    with write_transaction(engine) as conn:
        insert_if_absent(conn, SETTING, {"key": key, "value": value}, ["key"])
        return conn.execute(select(SETTING.c.value).where(SETTING.c.key == key)).scalar_one()


def put_setting(engine: Engine, *, key: str, value: str) -> None:
    """Store a setting, replacing what was there (caches such as the segment cut-offs)."""
    with write_transaction(engine) as conn:
        if insert_if_absent(conn, SETTING, {"key": key, "value": value}, ["key"]) is None:
            conn.execute(update(SETTING).where(SETTING.c.key == key).values(value=value))
