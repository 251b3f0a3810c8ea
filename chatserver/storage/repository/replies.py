"""Reply libraries: the admin-edited replies.

One row per reply with its current data, a version row for every change, and
usage counters. Callers validate a reply (responses.library) before it gets
here; these functions keep the rows consistent, each write in one
transaction. `data` is the reply's JSON text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from ..db import read_transaction, write_transaction
from ..errors import ReplyExists, ReplyVersionConflict, UnknownReply
from ..models import REPLY_ACTIONS, USAGE_KINDS, ReplyPublic, ReplyUsagePublic, ReplyVersionPublic
from ._common import check_allowed, insert_if_absent
from .tables import REPLY, REPLY_USAGE, REPLY_VERSION

_REPLY_KEY = ["library", "language", "response_id"]
_USAGE_KEY = ["library", "language", "response_id", "kind"]


@dataclasses.dataclass(frozen=True)
class NewReply:
    """One reply to seed or import: its language, id and JSON text."""

    language: str
    response_id: str
    data: str


def _replies(conn: Connection, *where: ColumnElement[bool]) -> list[ReplyPublic]:
    rows = conn.execute(
        select(REPLY).where(*where).order_by(REPLY.c.language, REPLY.c.position, REPLY.c.id)
    ).all()
    return [ReplyPublic.model_validate(dict(r._mapping)) for r in rows]


def _reply(conn: Connection, library: str, language: str, response_id: str) -> ReplyPublic | None:
    found = _replies(
        conn,
        REPLY.c.library == library,
        REPLY.c.language == language,
        REPLY.c.response_id == response_id,
    )
    return found[0] if found else None


def _record_version(
    conn: Connection,
    reply: ReplyPublic,
    *,
    data: str | None,
    action: str,
    operator_id: int | None,
    now: float,
) -> None:
    check_allowed(action, REPLY_ACTIONS, "action")
    conn.execute(
        REPLY_VERSION.insert().values(
            library=reply.library,
            language=reply.language,
            response_id=reply.response_id,
            version=reply.version,
            data=data,
            action=action,
            operator_id=operator_id,
            ts=now,
        )
    )


def _next_position(conn: Connection, library: str) -> int:
    last = conn.execute(select(func.max(REPLY.c.position)).where(REPLY.c.library == library)).scalar()
    return 0 if last is None else int(last) + 1


def _insert_reply(
    conn: Connection,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    action: str,
    operator_id: int | None,
    position: int | None,
    now: float,
) -> ReplyPublic | None:
    """A new reply at version 1 with its version row; None if the key is taken."""
    values = {
        "library": library,
        "language": language,
        "response_id": response_id,
        "data": data,
        "version": 1,
        "deleted": False,
        "position": _next_position(conn, library) if position is None else position,
        "updated_at": now,
        "updated_by": operator_id,
    }
    if insert_if_absent(conn, REPLY, values, _REPLY_KEY) is None:
        return None
    reply = _reply(conn, library, language, response_id)
    assert reply is not None
    _record_version(conn, reply, data=data, action=action, operator_id=operator_id, now=now)
    return reply


def _change_reply(
    conn: Connection,
    reply: ReplyPublic,
    *,
    data: str | None,
    deleted: bool,
    action: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
    position: int | None = None,
) -> ReplyPublic:
    """The next version of an existing reply; `data` None keeps the stored data (a deletion)."""
    values: dict[str, Any] = {
        "version": REPLY.c.version + 1,
        "deleted": deleted,
        "updated_at": now,
        "updated_by": operator_id,
    }
    if data is not None:
        values["data"] = data
    if position is not None:
        values["position"] = position
    statement = update(REPLY).where(REPLY.c.id == reply.id)
    if expected_version is not None:
        statement = statement.where(REPLY.c.version == expected_version)
    version = conn.execute(statement.values(**values).returning(REPLY.c.version)).scalar_one_or_none()
    if version is None:
        assert expected_version is not None
        raise ReplyVersionConflict(expected_version, reply.version)
    changed = _reply(conn, reply.library, reply.language, reply.response_id)
    assert changed is not None
    _record_version(
        conn, changed, data=None if deleted else changed.data, action=action, operator_id=operator_id, now=now
    )
    return changed


def _live_reply(conn: Connection, library: str, language: str, response_id: str) -> ReplyPublic:
    reply = _reply(conn, library, language, response_id)
    if reply is None or reply.deleted:
        raise UnknownReply(f"no reply {response_id!r} in {language!r} of library {library!r}")
    return reply


def _same_data(a: str, b: str) -> bool:
    return bool(json.loads(a) == json.loads(b))


def list_replies(
    engine: Engine, *, library: str, language: str | None = None, include_deleted: bool = False
) -> list[ReplyPublic]:
    """A library's replies ordered by language, then library order."""
    where = [REPLY.c.library == library]
    if language is not None:
        where.append(REPLY.c.language == language)
    if not include_deleted:
        where.append(REPLY.c.deleted.is_(False))
    with read_transaction(engine) as conn:
        return _replies(conn, *where)


def get_reply(engine: Engine, *, library: str, language: str, response_id: str) -> ReplyPublic | None:
    """One reply, deleted or not (check `deleted`)."""
    with read_transaction(engine) as conn:
        return _reply(conn, library, language, response_id)


def reply_revision(engine: Engine, *, library: str) -> int:
    """A number that grows with every change to the library's replies (0 for none yet)."""
    with read_transaction(engine) as conn:
        last = conn.execute(
            select(func.max(REPLY_VERSION.c.id)).where(REPLY_VERSION.c.library == library)
        ).scalar()
    return 0 if last is None else int(last)


def seed_replies(engine: Engine, *, library: str, replies: Sequence[NewReply], now: float) -> int:
    """Fill a library that has no replies yet ("seed" versions); how many were stored.

    A no-op once the library has any reply, deleted ones included, so an admin's
    edits always win over the bundled files. Two servers seeding at once store
    each reply once.
    """
    with write_transaction(engine) as conn:
        if conn.execute(select(REPLY.c.id).where(REPLY.c.library == library).limit(1)).first():
            return 0
        stored = 0
        for position, new in enumerate(replies):
            reply = _insert_reply(
                conn,
                library=library,
                language=new.language,
                response_id=new.response_id,
                data=new.data,
                action="seed",
                operator_id=None,
                position=position,
                now=now,
            )
            stored += reply is not None
        return stored


def create_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
) -> ReplyPublic:
    """A new reply at the end of its language; a deleted one with this id comes back as the next version.

    Raises ReplyExists when a reply with this id is live in this language.
    """
    with write_transaction(engine) as conn:
        reply = _reply(conn, library, language, response_id)
        if reply is not None and not reply.deleted:
            raise ReplyExists(f"reply {response_id!r} already exists in {language!r}")
        if reply is not None:
            return _change_reply(
                conn, reply, data=data, deleted=False, action="create", operator_id=operator_id, now=now
            )
        created = _insert_reply(
            conn,
            library=library,
            language=language,
            response_id=response_id,
            data=data,
            action="create",
            operator_id=operator_id,
            position=None,
            now=now,
        )
        if created is None:
            raise ReplyExists(f"reply {response_id!r} already exists in {language!r}")
        return created


def update_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
) -> ReplyPublic:
    """Store new data for a live reply; raises UnknownReply or ReplyVersionConflict."""
    with write_transaction(engine) as conn:
        reply = _live_reply(conn, library, language, response_id)
        return _change_reply(
            conn,
            reply,
            data=data,
            deleted=False,
            action="update",
            operator_id=operator_id,
            now=now,
            expected_version=expected_version,
        )


def delete_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
) -> ReplyPublic:
    """Mark a live reply deleted (a version with no data); it can be restored later."""
    with write_transaction(engine) as conn:
        reply = _live_reply(conn, library, language, response_id)
        return _change_reply(
            conn,
            reply,
            data=None,
            deleted=True,
            action="delete",
            operator_id=operator_id,
            now=now,
            expected_version=expected_version,
        )


def restore_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
) -> ReplyPublic:
    """Bring back earlier data as a new "restore" version, undeleting the reply if needed."""
    with write_transaction(engine) as conn:
        reply = _reply(conn, library, language, response_id)
        if reply is None:
            raise UnknownReply(f"no reply {response_id!r} in {language!r} of library {library!r}")
        return _change_reply(
            conn, reply, data=data, deleted=False, action="restore", operator_id=operator_id, now=now
        )


def reply_versions(
    engine: Engine, *, library: str, language: str, response_id: str
) -> list[ReplyVersionPublic]:
    """Every version of one reply, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(REPLY_VERSION)
            .where(
                REPLY_VERSION.c.library == library,
                REPLY_VERSION.c.language == language,
                REPLY_VERSION.c.response_id == response_id,
            )
            .order_by(REPLY_VERSION.c.version)
        ).all()
    return [ReplyVersionPublic.model_validate(dict(r._mapping)) for r in rows]


def get_reply_version(
    engine: Engine, *, library: str, language: str, response_id: str, version: int
) -> ReplyVersionPublic | None:
    with read_transaction(engine) as conn:
        row = conn.execute(
            select(REPLY_VERSION).where(
                REPLY_VERSION.c.library == library,
                REPLY_VERSION.c.language == language,
                REPLY_VERSION.c.response_id == response_id,
                REPLY_VERSION.c.version == version,
            )
        ).one_or_none()
    return None if row is None else ReplyVersionPublic.model_validate(dict(row._mapping))


def import_replies(
    engine: Engine,
    *,
    library: str,
    replies: Sequence[NewReply],
    replace: bool,
    languages: Sequence[str] | None = None,
    operator_id: int | None,
    now: float,
) -> dict[str, int]:
    """Store a whole imported document in one transaction; counts of what changed.

    New and deleted replies come (back) as "import" versions, changed ones get an
    "import" version, identical ones none. With `replace`, live replies missing
    from the document are deleted (only in `languages`, when given) and the
    document's order becomes the library order; otherwise new replies go last.
    """
    summary = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    with write_transaction(engine) as conn:
        rows = {(r.language, r.response_id): r for r in _replies(conn, REPLY.c.library == library)}
        next_position = _next_position(conn, library)
        seen: set[tuple[str, str]] = set()
        for index, new in enumerate(replies):
            key = (new.language, new.response_id)
            if key in seen:
                raise ValueError(f"reply {new.response_id!r} appears twice in {new.language!r}")
            seen.add(key)
            reply = rows.get(key)
            position = index if replace else None
            common: dict[str, Any] = {"operator_id": operator_id, "now": now}
            if reply is None:
                if position is None:
                    position, next_position = next_position, next_position + 1
                _insert_reply(
                    conn,
                    library=library,
                    language=new.language,
                    response_id=new.response_id,
                    data=new.data,
                    action="import",
                    position=position,
                    **common,
                )
                summary["created"] += 1
            elif reply.deleted or not _same_data(reply.data, new.data):
                _change_reply(
                    conn, reply, data=new.data, deleted=False, action="import", position=position, **common
                )
                summary["created" if reply.deleted else "updated"] += 1
            else:
                if position is not None and position != reply.position:
                    conn.execute(update(REPLY).where(REPLY.c.id == reply.id).values(position=position))
                summary["unchanged"] += 1
        if replace:
            for key, reply in rows.items():
                if key in seen or reply.deleted or (languages is not None and key[0] not in languages):
                    continue
                _change_reply(
                    conn, reply, data=None, deleted=True, action="delete", operator_id=operator_id, now=now
                )
                summary["deleted"] += 1
    return summary


def increment_reply_usage(
    engine: Engine, *, library: str, counts: Mapping[tuple[str, str, str], int], now: float
) -> None:
    """Add to the usage counters, keyed (language, response_id, kind), in one upsert."""
    rows = []
    for (language, response_id, kind), count in counts.items():
        check_allowed(kind, USAGE_KINDS, "usage kind")
        if count > 0:
            rows.append(
                {
                    "library": library,
                    "language": language,
                    "response_id": response_id,
                    "kind": kind,
                    "count": count,
                    "last_at": now,
                }
            )
    if not rows:
        return
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            pg = pg_insert(REPLY_USAGE).values(rows)
            pg = pg.on_conflict_do_update(
                index_elements=_USAGE_KEY,
                set_={"count": REPLY_USAGE.c.count + pg.excluded.count, "last_at": pg.excluded.last_at},
            )
            conn.execute(pg)
        elif conn.dialect.name == "sqlite":
            lite = sqlite_insert(REPLY_USAGE).values(rows)
            lite = lite.on_conflict_do_update(
                index_elements=_USAGE_KEY,
                set_={"count": REPLY_USAGE.c.count + lite.excluded.count, "last_at": lite.excluded.last_at},
            )
            conn.execute(lite)
        else:
            for row in rows:
                key = [REPLY_USAGE.c[k] == row[k] for k in _USAGE_KEY]
                bumped = conn.execute(
                    update(REPLY_USAGE)
                    .where(*key)
                    .values(count=REPLY_USAGE.c.count + row["count"], last_at=now)
                )
                if bumped.rowcount == 0:
                    conn.execute(REPLY_USAGE.insert().values(**row))


def reply_usage(engine: Engine, *, library: str, language: str | None = None) -> list[ReplyUsagePublic]:
    """The usage counters of a library (or one language of it)."""
    where = [REPLY_USAGE.c.library == library]
    if language is not None:
        where.append(REPLY_USAGE.c.language == language)
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(REPLY_USAGE)
            .where(*where)
            .order_by(REPLY_USAGE.c.language, REPLY_USAGE.c.response_id, REPLY_USAGE.c.kind)
        ).all()
    return [ReplyUsagePublic.model_validate(dict(r._mapping)) for r in rows]
