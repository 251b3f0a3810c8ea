"""The team lead's report, for admins (``Authorization: Bearer <admin token>``).

``GET /api/admin/reports?from=<unix s>&to=<unix s>&team=<name>&operator_id=<int>`` → the report
of the conversations created in [from, to) (default: the 7 days up to now), of one team and one
operator when given: ``{"period", "filters", "conversations", "satisfaction", "wait_honesty",
"etiquette", "assistant"}``; ``null`` wherever there is nothing to measure. The definitions and the
full shape are in ``docs/reports.md``.

``GET /api/admin/reports/{table}.csv`` (same query parameters) → one of its tables as CSV with a
header row: conversations_by_day, satisfaction_by_team, satisfaction_by_operator, comments (all of
them, not only the newest), replies, situations. An unknown table is ``404 not_found``; a bad query
value is ``422 invalid_field`` naming it.
"""

from __future__ import annotations

import csv
import io
import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.storage import repository as repo

from .http_edge import MAX_ID, Access, ApiError, requires

DEFAULT_PERIOD_S = 7 * 86400
MAX_TS = 2**40  # unix seconds far beyond any date a chat could have


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_field", message, field=field)


def _timestamp(request: Request, field: str) -> float | None:
    raw = request.query_params.get(field)
    if raw is None:
        return None
    try:
        value = float(raw) if raw.strip() == raw and raw else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_TS:
        raise _invalid(field, f"'{field}' must be a unix time in seconds")
    return int(value) if value.is_integer() else value


def scope_from_query(request: Request, now: float) -> repo.ReportScope:
    """The report's scope from the query string; ``ApiError(422)`` naming a bad value."""
    start, end = _timestamp(request, "from"), _timestamp(request, "to")
    if end is None:
        end = int(now) if start is None or start < now else start + DEFAULT_PERIOD_S
    if start is None:
        start = max(end - DEFAULT_PERIOD_S, 0)
    if start >= end:
        raise _invalid("to", "'to' must be after 'from'")
    team = request.query_params.get("team")
    if team is not None and not (0 < len(team) <= 100 and team.isprintable()):
        raise _invalid("team", "'team' must be a team name of 1 to 100 characters")
    operator = request.query_params.get("operator_id")
    operator_id: int | None = None
    if operator is not None:
        if not (operator.isascii() and operator.isdigit() and 0 < int(operator) <= MAX_ID):
            raise _invalid("operator_id", "'operator_id' must be an operator id")
        operator_id = int(operator)
    return repo.ReportScope(from_ts=start, to_ts=end, now=now, team=team, operator_id=operator_id)


@requires("admin")
async def report(request: Request, access: Access) -> Response:
    scope = scope_from_query(request, access.state.clock())
    return JSONResponse(await access.state.writer.read(repo.report, scope=scope))


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@requires("admin")
async def report_csv(request: Request, access: Access) -> Response:
    table = request.path_params["table"]
    columns = repo.REPORT_TABLES.get(table)
    if columns is None:
        raise ApiError(404, "not_found", f"there is no report table {table!r}")
    scope = scope_from_query(request, access.state.clock())
    rows = await access.state.writer.read(repo.report_table, table=table, scope=scope)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{table}.csv"'},
    )


def report_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/reports", report, methods=["GET"]),
        Route("/api/admin/reports/{table}.csv", report_csv, methods=["GET"]),
    ]
