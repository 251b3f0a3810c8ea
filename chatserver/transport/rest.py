"""REST routes: visitor sessions, operator login, health, admin actions. Errors are JSON with stable codes."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.core.texts import language_of
from chatserver.storage import repository as repo

from .auth import identity_is_valid, verify_password
from .http_edge import Access, ApiError, json_body, optional_str, requires
from .limits import client_ip, retry_seconds
from .state import ServerState, server_state


def rate_limited(message: str, delay_s: float) -> JSONResponse:
    """429 with the seconds to wait, in the body and in ``Retry-After``."""
    wait = retry_seconds(delay_s)
    return JSONResponse(
        {"error": {"code": "rate_limited", "message": message, "retry_after_s": wait}},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


def request_ip(request: Request, state: ServerState) -> str:
    return client_ip(request.scope, state.settings.trust_forwarded_for)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and routing works here (with several processes, the
    shared state is reachable).

    ``leader`` says whether this process runs the timers and the shared side effects (always
    true with one process): operators and tests can tell which process to watch.
    """
    hub = server_state(request.app).hub
    ready = await hub.ready_to_serve()
    return JSONResponse({"ready": ready, "leader": hub.leading}, status_code=200 if ready else 503)


async def create_visitor_session(request: Request) -> Response:
    """A new or returning visitor gets a token; a correctly signed identity links the customer."""
    state = server_state(request.app)
    wait = state.limits.visitor_sessions.take(request_ip(request, state), state.clock())
    if wait:
        state.hub.metrics.refused("visitor_sessions")
        return rate_limited("too many visitor sessions from this address", wait)
    data = await json_body(request)
    visitor_id = optional_str(data, "visitor_id", max_len=64)
    locale = optional_str(data, "locale", max_len=35)
    locale = language_of(locale) if locale else None
    now = state.clock()
    customer_id: int | None = None
    identity = data.get("identity")
    if isinstance(identity, dict) and identity_is_valid(
        state.settings.identity_secret, identity.get("external_id"), identity.get("signature")
    ):
        customer = await state.writer.run(
            repo.get_or_create_customer_by_external_id,
            external_id=identity["external_id"][:200],
            name=identity.get("name") if isinstance(identity.get("name"), str) else None,
            email=identity.get("email") if isinstance(identity.get("email"), str) else None,
            locale=locale,
            now=now,
        )
        customer_id = customer.id
    existing = await state.writer.read_keyed(repo.visitors_by_id, visitor_id, None) if visitor_id else None
    blocked_customer = (
        customer_id if customer_id is not None else (existing.customer_id if existing else None)
    )
    if existing is not None or blocked_customer is not None:  # a brand-new anonymous visitor has no block
        block = await state.writer.read_keyed(
            repo.active_blocks, (existing.id if existing is not None else None, blocked_customer), None
        )
        if block is not None:
            raise ApiError(403, "visitor_blocked", "this visitor is blocked")
    if existing is None:
        visitor_id = uuid.uuid4().hex
        # In the writer's next group commit; the token goes out only once it is durable.
        await state.writer.bulk(
            repo.add_visitors, visitor_id=visitor_id, locale=locale, customer_id=customer_id, now=now
        )
    else:
        await state.writer.run(
            repo.touch_visitor, visitor_id=existing.id, now=now, customer_id=customer_id, locale=locale
        )
        visitor_id = existing.id
    assert visitor_id is not None
    if customer_id is not None and existing is not None:
        # Signed in: the visitor's earlier anonymous conversations become the customer's.
        await state.writer.run(
            repo.merge_visitor_history, visitor_id=visitor_id, customer_id=customer_id, now=now
        )
    token = state.signer.issue(
        kind="visitor", subject=visitor_id, ttl_s=state.settings.visitor_token_ttl_s, now=now
    )
    return JSONResponse({"visitor_id": visitor_id, "token": token}, status_code=201)


async def operator_login(request: Request) -> Response:
    state = server_state(request.app)
    data = await json_body(request)
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ApiError(422, "missing_field", "'email' and 'password' are required")
    # Locked out (after failures in a row, by account or by address): refused before the
    # password is checked, so a right guess during a lockout tells nothing.
    limits, now = state.limits, state.clock()
    account_key, address_key = email.strip().lower()[:320], request_ip(request, state)
    wait = max(
        limits.login_accounts.locked(account_key, now), limits.login_addresses.locked(address_key, now)
    )
    if wait:
        state.hub.metrics.refused("login")
        return rate_limited("too many failed sign-ins; try again later", wait)
    operator = await state.writer.read(repo.get_operator_by_email, email=email)
    if operator is None or not operator.active or not verify_password(operator.password_hash, password):
        limits.login_accounts.failed(account_key, now)
        limits.login_addresses.failed(address_key, now)
        raise ApiError(401, "invalid_credentials", "the email or password is wrong")
    # Only the account's count is cleared: a working login of one's own must not reset an
    # address's failures (they fade after CHAT_LOGIN_LOCKOUT_MAX_S without one).
    limits.login_accounts.succeeded(account_key)
    token = state.signer.issue(
        kind="operator",
        subject=str(operator.id),
        ttl_s=state.settings.operator_token_ttl_s,
        now=now,
    )
    return JSONResponse(
        {"token": token, "operator": {"id": operator.id, "name": operator.name, "role": operator.role}}
    )


@requires("admin")
async def deactivate_operator(request: Request, access: Access) -> Response:
    """An admin turns an account off; its open sockets close at once and its chats go back to the queue."""
    state = access.state
    operator_id = request.path_params["operator_id"]
    if await state.writer.read(repo.get_operator, operator_id=operator_id) is None:
        raise ApiError(404, "not_found", "no such operator")
    operator = await state.writer.run(repo.set_operator_active, operator_id=operator_id, active=False)
    await state.hub.deactivate_operator(operator_id)
    return JSONResponse({"id": operator.id, "active": operator.active})
