"""Teams and operator accounts.

Logins, team membership, and the admin edits, which never leave the server
without an active admin account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.engine import Connection, Engine

from ..db import read_transaction, write_transaction
from ..errors import DuplicateEmail, LastAdmin, TeamExists, TeamInUse, UnknownOperator, UnknownTeam
from ..models import OPERATOR_ROLES, OperatorCredentials, OperatorPublic, TeamPublic
from ._common import check_allowed, insert_if_absent, normalize_email
from .tables import OPERATOR, OPERATOR_TEAM, TEAM


def _ensure_team(conn: Connection, name: str) -> TeamPublic:
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    insert_if_absent(conn, TEAM, {"name": name}, ["name"])
    row = conn.execute(select(TEAM).where(TEAM.c.name == name)).one()
    return TeamPublic.model_validate(dict(row._mapping))


def ensure_team(engine: Engine, *, name: str) -> TeamPublic:
    """The team with this name, created if it does not exist yet."""
    with write_transaction(engine) as conn:
        return _ensure_team(conn, name)


def list_teams(engine: Engine) -> list[TeamPublic]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(TEAM).order_by(TEAM.c.name)).all()
    return [TeamPublic.model_validate(dict(r._mapping)) for r in rows]


def _teams_of(conn: Connection, operator_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(operator_ids)
    teams: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return teams
    rows = conn.execute(
        select(OPERATOR_TEAM.c.operator_id, TEAM.c.name)
        .join(TEAM, TEAM.c.id == OPERATOR_TEAM.c.team_id)
        .where(OPERATOR_TEAM.c.operator_id.in_(ids))
        .order_by(TEAM.c.name)
    ).all()
    for operator_id, name in rows:
        teams[operator_id].append(name)
    return teams


_OPERATOR_PUBLIC_COLUMNS = [c for c in OPERATOR.c if c.name != "password_hash"]


def _load_operators(conn: Connection, *where: ColumnElement[bool]) -> list[OperatorPublic]:
    rows = conn.execute(select(*_OPERATOR_PUBLIC_COLUMNS).where(*where).order_by(OPERATOR.c.id)).all()
    teams = _teams_of(conn, (r.id for r in rows))
    return [OperatorPublic.model_validate({**r._mapping, "teams": teams[r.id]}) for r in rows]


def create_operator(
    engine: Engine,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: str = "operator",
    teams: Sequence[str] = (),
    capacity: int = 3,
    title: str = "",
    now: float,
) -> OperatorPublic:
    """A new operator account; emails are stored lower-cased and must be unique."""
    check_allowed(role, OPERATOR_ROLES, "role")
    if capacity < 0:
        raise ValueError("capacity cannot be negative")
    email = normalize_email(email)
    values = {
        "email": email,
        "name": name,
        "title": title,
        "role": role,
        "capacity": capacity,
        "active": True,
        "password_hash": password_hash,
        "created_at": now,
    }
    with write_transaction(engine) as conn:
        operator_id = insert_if_absent(conn, OPERATOR, values, ["email"])
        if operator_id is None:
            raise DuplicateEmail(email)
        for team_name in dict.fromkeys(teams):
            team = _ensure_team(conn, team_name)
            link = {"operator_id": operator_id, "team_id": team.id}
            insert_if_absent(conn, OPERATOR_TEAM, link, ["operator_id", "team_id"])
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def get_operator(engine: Engine, *, operator_id: int) -> OperatorPublic | None:
    with read_transaction(engine) as conn:
        found = _load_operators(conn, OPERATOR.c.id == operator_id)
    return found[0] if found else None


def get_operator_by_email(engine: Engine, *, email: str) -> OperatorCredentials | None:
    """The operator with the password hash, for login; the email match ignores case."""
    with read_transaction(engine) as conn:
        row = conn.execute(select(OPERATOR).where(OPERATOR.c.email == normalize_email(email))).one_or_none()
        if row is None:
            return None
        teams = _teams_of(conn, [row.id])[row.id]
    return OperatorCredentials.model_validate({**row._mapping, "teams": teams})


def list_operators(engine: Engine, *, active_only: bool = False) -> list[OperatorPublic]:
    """All operators ordered by id, each with its team names."""
    where = [OPERATOR.c.active.is_(True)] if active_only else []
    with read_transaction(engine) as conn:
        return _load_operators(conn, *where)


def set_operator_active(engine: Engine, *, operator_id: int, active: bool) -> OperatorPublic:
    """Enable or disable a login; raises UnknownOperator."""
    with write_transaction(engine) as conn:
        updated = conn.execute(update(OPERATOR).where(OPERATOR.c.id == operator_id).values(active=active))
        if updated.rowcount == 0:
            raise UnknownOperator(f"no operator {operator_id}")
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def operator_teams(engine: Engine, *, operator_id: int) -> list[str]:
    """Team names of one operator, sorted; empty for an unknown operator."""
    with read_transaction(engine) as conn:
        return _teams_of(conn, [operator_id])[operator_id]


# --- account and team administration ----------------------------------------


def _active_admins(conn: Connection, *, excluding: int) -> int:
    count = conn.execute(
        select(func.count())
        .select_from(OPERATOR)
        .where(OPERATOR.c.role == "admin", OPERATOR.c.active.is_(True), OPERATOR.c.id != excluding)
    ).scalar_one()
    return int(count)


def _set_teams(conn: Connection, operator_id: int, teams: Sequence[str]) -> None:
    conn.execute(OPERATOR_TEAM.delete().where(OPERATOR_TEAM.c.operator_id == operator_id))
    for team_name in dict.fromkeys(t.strip() for t in teams):
        team = _ensure_team(conn, team_name)
        link = {"operator_id": operator_id, "team_id": team.id}
        insert_if_absent(conn, OPERATOR_TEAM, link, ["operator_id", "team_id"])


def update_operator(
    engine: Engine,
    *,
    operator_id: int,
    email: str | None = None,
    name: str | None = None,
    title: str | None = None,
    role: str | None = None,
    capacity: int | None = None,
    active: bool | None = None,
    teams: Sequence[str] | None = None,
    password_hash: str | None = None,
) -> OperatorPublic:
    """Change an account; only the given fields change (``teams`` replaces the whole set).

    Raises UnknownOperator, DuplicateEmail, or LastAdmin when the change would leave no active
    admin. Teams that do not exist yet are created.
    """
    if role is not None:
        check_allowed(role, OPERATOR_ROLES, "role")
    if capacity is not None and capacity < 0:
        raise ValueError("capacity cannot be negative")
    values: dict[str, Any] = {
        key: value
        for key, value in (
            ("name", name),
            ("title", title),
            ("role", role),
            ("capacity", capacity),
            ("active", active),
            ("password_hash", password_hash),
        )
        if value is not None
    }
    if email is not None:
        values["email"] = normalize_email(email)
    with write_transaction(engine) as conn:
        found = _load_operators(conn, OPERATOR.c.id == operator_id)
        if not found:
            raise UnknownOperator(f"no operator {operator_id}")
        current = found[0]
        stays_admin = values.get("role", current.role) == "admin" and values.get("active", current.active)
        if current.role == "admin" and current.active and not stays_admin:
            if _active_admins(conn, excluding=operator_id) == 0:
                raise LastAdmin("this is the last active admin account")
        if "email" in values:
            taken = conn.execute(
                select(OPERATOR.c.id).where(OPERATOR.c.email == values["email"], OPERATOR.c.id != operator_id)
            ).first()
            if taken is not None:
                raise DuplicateEmail(values["email"])
        if values:
            conn.execute(update(OPERATOR).where(OPERATOR.c.id == operator_id).values(**values))
        if teams is not None:
            _set_teams(conn, operator_id, teams)
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def list_teams_with_members(engine: Engine) -> list[dict[str, Any]]:
    """Every team by name, with its members' ids (active accounts first, then by id)."""
    with read_transaction(engine) as conn:
        teams = conn.execute(select(TEAM.c.id, TEAM.c.name).order_by(TEAM.c.name)).all()
        links = conn.execute(
            select(OPERATOR_TEAM.c.team_id, OPERATOR.c.id, OPERATOR.c.active)
            .join(OPERATOR, OPERATOR.c.id == OPERATOR_TEAM.c.operator_id)
            .order_by(OPERATOR.c.active.desc(), OPERATOR.c.id)
        ).all()
    members: dict[int, list[int]] = {t.id: [] for t in teams}
    active: dict[int, int] = {t.id: 0 for t in teams}
    for team_id, operator_id, is_active in links:
        members[team_id].append(operator_id)
        active[team_id] += 1 if is_active else 0
    return [
        {"id": t.id, "name": t.name, "members": members[t.id], "active_members": active[t.id]} for t in teams
    ]


def create_team(engine: Engine, *, name: str) -> TeamPublic:
    """A new team; raises TeamExists when the name is taken (names compare exactly)."""
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    with write_transaction(engine) as conn:
        if insert_if_absent(conn, TEAM, {"name": name}, ["name"]) is None:
            raise TeamExists(name)
        row = conn.execute(select(TEAM).where(TEAM.c.name == name)).one()
    return TeamPublic.model_validate(dict(row._mapping))


def delete_team(engine: Engine, *, team_id: int) -> None:
    """Remove a team that has no members; raises UnknownTeam or TeamInUse."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(TEAM.c.name).where(TEAM.c.id == team_id)).one_or_none()
        if row is None:
            raise UnknownTeam(f"no team {team_id}")
        members = conn.execute(
            select(func.count()).select_from(OPERATOR_TEAM).where(OPERATOR_TEAM.c.team_id == team_id)
        ).scalar_one()
        if members:
            raise TeamInUse(row.name, int(members))
        conn.execute(TEAM.delete().where(TEAM.c.id == team_id))
