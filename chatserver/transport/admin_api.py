"""Admin routes for the reply libraries: edit, versions, restore, export/import, usage, preview.

Every route needs an admin's bearer token (401 without one, 403 for another
role). Library errors keep the ``responses`` package's codes and say where the
problem is: ``{"error": {"code", "message", "file", "entry", "field"}}``, with
status 422, or 409 for an id or shortcut another reply already has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.library_store import (
    IMPORT_FILE,
    IMPORT_MODES,
    ImportMode,
    LibraryStore,
    ReplyNotFound,
    StoredReply,
    VersionConflict,
)
from chatserver.storage.models import USAGE_KINDS, ReplyVersionPublic
from responses.errors import DUPLICATE_ID, DUPLICATE_SHORTCUT, INVALID_FIELD, LibraryError
from responses.fill import fill_text, find_unfilled
from responses.library import GENERAL, validate_response
from responses.variables import VARIABLES

from .http_edge import Access, ApiError, Endpoint, json_body, parse_json, read_body, requires
from .state import ServerState

__all__ = ["admin_routes"]

# An export of the bundled library is ~70 kB; room for libraries many times its size.
MAX_IMPORT_BODY = 8 * 1024 * 1024
MAX_PREVIEW_TEXT = 4000
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
_CONFLICTS = (DUPLICATE_ID, DUPLICATE_SHORTCUT)
# What a GET returns beside the reply's own fields; a PUT of that same object may carry them.
_READ_ONLY = ("updated_at", "updated_by", "usage")

Handler = Callable[[Request, Any, LibraryStore], Awaitable[Response]]


def library_error(exc: LibraryError, *, conflict_status: int = 409) -> JSONResponse:
    status = conflict_status if exc.code in _CONFLICTS else 422
    return JSONResponse({"error": exc.to_dict()}, status_code=status)


def _store(request: Request, state: ServerState) -> LibraryStore:
    store = cast(LibraryStore | None, state.library)
    if store is None:
        raise ApiError(503, "unavailable", "the reply library is not loaded")
    name = request.path_params.get("library", store.name)
    if name != store.name:
        raise ApiError(404, "not_found", f"no library {name!r}")
    return store


def _language(request: Request) -> str:
    language: str = request.path_params["language"]
    if not _LANGUAGE_RE.match(language):
        raise ApiError(404, "not_found", f"no language {language!r}; use a code like 'pl'")
    return language


def _admin(handler: Handler) -> Endpoint:
    """Check the admin token and the library, and turn store errors into error responses."""

    @requires("admin")
    @wraps(handler)
    async def endpoint(request: Request, access: Access) -> Response:
        store = _store(request, access.state)
        try:
            return await handler(request, access.operator, store)
        except LibraryError as exc:
            return library_error(exc)
        except ReplyNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except VersionConflict as exc:
            raise ApiError(409, "version_conflict", str(exc)) from None

    return endpoint


def _usage_of(counts: Mapping[str, int]) -> dict[str, int]:
    return {kind: counts.get(kind, 0) for kind in USAGE_KINDS}


def _version_json(version: ReplyVersionPublic) -> dict[str, Any]:
    return {
        "version": version.version,
        "action": version.action,
        "operator_id": version.operator_id,
        "ts": version.ts,
        "data": None if version.data is None else json.loads(version.data),
    }


def _expected_version(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ApiError(422, INVALID_FIELD, "'version' must be the reply's current version number")


def _reply(stored: StoredReply, **status: Any) -> JSONResponse:
    return JSONResponse(stored.to_json(), **status)


# --- libraries and replies ---------------------------------------------------


@_admin
async def list_libraries(request: Request, operator: Any, store: LibraryStore) -> Response:
    library = store.current
    return JSONResponse(
        {
            "libraries": [
                {"name": library.name, "languages": list(library.languages), "responses": len(library)}
            ]
        }
    )


@_admin
async def list_responses(request: Request, operator: Any, store: LibraryStore) -> Response:
    """A language's replies in library order, with versions and usage; ?q= searches, ?situation= filters."""
    language = _language(request)
    replies = store.replies(language)
    query = request.query_params.get("q", "").strip()
    if query:
        found = store.current.search(language, query, limit=len(replies) or 1)
        replies = [store.get(language, r.id) for r in found]
    situation = request.query_params.get("situation")
    if situation:
        replies = [s for s in replies if s.response.situation == situation]
    usage = (await store.usage(language)).get(language, {})
    items = [{**s.to_json(), "usage": _usage_of(usage.get(s.response.id, {}))} for s in replies]
    return JSONResponse({"library": store.name, "language": language, "responses": items})


@_admin
async def create_response(request: Request, operator: Any, store: LibraryStore) -> Response:
    language = _language(request)
    data = await json_body(request)
    stored = await store.create(language, data, operator_id=operator.id)
    location = f"{request.url.path}/{stored.response.id}"
    return _reply(stored, status_code=201, headers={"Location": location})


@_admin
async def get_response(request: Request, operator: Any, store: LibraryStore) -> Response:
    stored = store.get(_language(request), request.path_params["response_id"])
    return _reply(stored)


@_admin
async def update_response(request: Request, operator: Any, store: LibraryStore) -> Response:
    """Replace a reply. An optional "version" refuses the edit (409) if someone changed it since."""
    language = _language(request)
    data = await json_body(request)
    expected = _expected_version(data.pop("version", None))
    for key in _READ_ONLY:
        data.pop(key, None)
    stored = await store.update(
        language,
        request.path_params["response_id"],
        data,
        operator_id=operator.id,
        expected_version=expected,
    )
    return _reply(stored)


@_admin
async def delete_response(request: Request, operator: Any, store: LibraryStore) -> Response:
    language = _language(request)
    response_id = request.path_params["response_id"]
    expected = _expected_version(request.query_params.get("version"))
    version = await store.delete(language, response_id, operator_id=operator.id, expected_version=expected)
    return JSONResponse({"id": response_id, "language": language, "version": version, "deleted": True})


@_admin
async def list_versions(request: Request, operator: Any, store: LibraryStore) -> Response:
    """Every version of a reply, oldest first (also for a deleted reply, so it can be restored)."""
    language = _language(request)
    response_id = request.path_params["response_id"]
    versions = await store.versions(language, response_id)
    return JSONResponse(
        {"id": response_id, "language": language, "versions": [_version_json(v) for v in versions]}
    )


@_admin
async def restore_version(request: Request, operator: Any, store: LibraryStore) -> Response:
    stored = await store.restore(
        _language(request),
        request.path_params["response_id"],
        request.path_params["version"],
        operator_id=operator.id,
    )
    return _reply(stored)


# --- export, import, usage ---------------------------------------------------


@_admin
async def export_library(request: Request, operator: Any, store: LibraryStore) -> Response:
    filename = f"{store.name}-library.json"
    return JSONResponse(store.export(), headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _document(request: Request) -> Any:
    raw = await read_body(request, limit=MAX_IMPORT_BODY)
    try:
        return parse_json(raw)
    except ApiError as exc:
        raise LibraryError(IMPORT_FILE, None, None, INVALID_FIELD, exc.message) from None


@_admin
async def import_library(request: Request, operator: Any, store: LibraryStore) -> Response:
    """Import an export (?mode=replace, the default, or ?mode=merge); all of it or nothing."""
    mode = request.query_params.get("mode", "replace")
    if mode not in IMPORT_MODES:
        raise ApiError(422, INVALID_FIELD, f"mode must be one of {', '.join(IMPORT_MODES)}")
    try:
        document = await _document(request)
        summary = await store.import_(document, operator_id=operator.id, mode=cast(ImportMode, mode))
    except LibraryError as exc:
        # A clash inside the document is a fault of the document, not a conflict.
        return library_error(exc, conflict_status=422)
    return JSONResponse(summary)


@_admin
async def library_usage(request: Request, operator: Any, store: LibraryStore) -> Response:
    """How often each reply was suggested, sent as is, sent edited or ignored."""
    return JSONResponse({"library": store.name, "kinds": list(USAGE_KINDS), "usage": await store.usage()})


# --- variables and preview ---------------------------------------------------


@requires("admin")
async def list_variables(request: Request, access: Access) -> Response:
    """The variables a reply may use, with a description and an example value each."""
    return JSONResponse(
        {
            "variables": [
                {"name": v.name, "description": v.description, "example": v.example}
                for v in VARIABLES.values()
            ]
        }
    )


def _context(value: Any) -> dict[str, str | None]:
    if value is None:  # no context given: show every variable with its example
        return {v.name: v.example or None for v in VARIABLES.values()}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise ApiError(422, INVALID_FIELD, "'context' must map variable names to strings or null")
    return value


@_admin
async def preview(request: Request, operator: Any, store: LibraryStore) -> Response:
    """A text filled as an operator would see it, and what would stop it from being sent.

    Body: ``text``, optional ``slots`` (as in a reply) and ``context`` (variable ->
    value; without it every variable gets its example value). ``problem`` is the
    error saving this text as a reply would give, or null.
    """
    language = _language(request)
    data = await json_body(request)
    text = data.get("text")
    if not isinstance(text, str) or len(text) > MAX_PREVIEW_TEXT:
        raise ApiError(422, INVALID_FIELD, f"'text' must be a string of at most {MAX_PREVIEW_TEXT}")
    slots = data.get("slots", [])
    if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots):
        raise ApiError(422, INVALID_FIELD, "'slots' must be a list of variable names")
    filled = fill_text(text, slots, _context(data.get("context")))
    problem: dict[str, Any] | None = None
    try:
        draft = {"id": "preview", "situation": GENERAL, "title": "preview", "text": text, "slots": slots}
        validate_response(draft, file=f"{store.name}/{language}", language=language)
    except LibraryError as exc:
        problem = {"code": exc.code, "message": exc.message, "field": exc.field}
    return JSONResponse(
        {
            "text": filled.text,
            "missing": filled.missing,
            "complete": filled.complete,
            "segments": [{"kind": s.kind, "value": s.value} for s in filled.segments],
            "unfilled": find_unfilled(filled.text),
            "problem": problem,
        }
    )


def admin_routes() -> list[BaseRoute]:
    """The reply library admin routes, for the app's route list."""
    library = "/api/admin/libraries/{library}"
    reply = library + "/{language}/responses/{response_id}"
    return [
        Route("/api/admin/variables", list_variables, methods=["GET"]),
        Route("/api/admin/libraries", list_libraries, methods=["GET"]),
        Route(library + "/export", export_library, methods=["GET"]),
        Route(library + "/import", import_library, methods=["POST"]),
        Route(library + "/usage", library_usage, methods=["GET"]),
        Route(library + "/{language}/preview", preview, methods=["POST"]),
        Route(library + "/{language}/responses", list_responses, methods=["GET"]),
        Route(library + "/{language}/responses", create_response, methods=["POST"]),
        Route(reply, get_response, methods=["GET"]),
        Route(reply, update_response, methods=["PUT"]),
        Route(reply, delete_response, methods=["DELETE"]),
        Route(reply + "/versions", list_versions, methods=["GET"]),
        Route(reply + "/versions/{version:int}/restore", restore_version, methods=["POST"]),
    ]
