"""``/metrics`` over a real server: off without a token, 401 without the right one, and the figures."""

from __future__ import annotations

import io
import json
import logging

from chatserver.logs import JsonFormatter, configure_logging, context
from chatserver.settings import Settings, SettingsError

from .conftest import ServerFactory

TOKEN = "metrics-token-for-tests"


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample line ``name{labels} value`` of a Prometheus text page."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    raise AssertionError(f"no sample {wanted} in:\n{text}")


async def test_metrics_are_off_without_a_token(start_server: ServerFactory) -> None:
    server = await start_server()
    response = await server.http.get("/metrics")
    assert response.status_code == 404


async def test_metrics_need_the_bearer_token(start_server: ServerFactory) -> None:
    server = await start_server(metrics_token=TOKEN)
    assert (await server.http.get("/metrics")).status_code == 401
    wrong = await server.http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    ok = await server.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")


async def test_metrics_count_a_chat(start_server: ServerFactory) -> None:
    server = await start_server(metrics_token=TOKEN, suggestions=True)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    visitor, _ = await server.visitor()
    await visitor.say("hello, is anyone there?")
    await server.settle()
    page = (await server.http.get("/metrics", headers=auth)).text
    assert sample(page, "chat_chats_waiting") == 1
    assert sample(page, "chat_operators_online") == 0
    assert sample(page, "chat_open_sockets", 'kind="visitor"') == 1

    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    cid = (await operator.expect("assigned"))["conversation_id"]
    await operator.say("Hello, how can I help?", conversation_id=cid)
    await visitor.say("my parcel did not arrive")
    await operator.expect("suggestions", timeout=10)
    await server.settle()
    page = (await server.http.get("/metrics", headers=auth)).text
    assert sample(page, "chat_chats_waiting") == 0
    assert sample(page, "chat_operators_online") == 1
    assert sample(page, "chat_open_sockets", 'kind="operator"') == 1
    assert sample(page, "chat_messages_stored_total") >= 3
    assert sample(page, "chat_commit_batch_seconds_count") >= 1
    assert sample(page, "chat_ack_latency_seconds_count") == 3
    assert sample(page, "chat_assignment_latency_seconds_count") == 1
    assert sample(page, "chat_suggestion_latency_seconds_count") >= 1

    await visitor.close()
    await operator.close()
    await server.settle()
    for _ in range(100):
        page = (await server.http.get("/metrics", headers=auth)).text
        if sample(page, "chat_open_sockets", 'kind="visitor"') == 0:
            break
    assert sample(page, "chat_open_sockets", 'kind="visitor"') == 0


async def test_refusals_are_counted_by_limit(start_server: ServerFactory) -> None:
    server = await start_server(metrics_token=TOKEN, visitor_sessions_per_minute=1)
    await server.visitor_session()
    refused = await server.http.post("/api/visitor/sessions", json={})
    assert refused.status_code == 429
    page = (await server.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert sample(page, "chat_rate_limit_refusals_total", 'limit="visitor_sessions"') == 1
    assert sample(page, "chat_rate_limit_refusals_total", 'limit="login"') == 0


async def test_each_app_has_its_own_registry(start_server: ServerFactory) -> None:
    first = await start_server(metrics_token=TOKEN)
    second = await start_server(metrics_token=TOKEN)
    assert first.state.hub.metrics.registry is not second.state.hub.metrics.registry


def test_log_format_setting() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"CHAT_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({"CHAT_METRICS_TOKEN": "t"}).metrics_token == "t"
    try:
        Settings.from_env({"CHAT_LOG_FORMAT": "xml"})
    except SettingsError as error:
        assert "CHAT_LOG_FORMAT" in str(error)
    else:
        raise AssertionError("CHAT_LOG_FORMAT=xml was taken")


def test_json_log_lines_carry_the_conversation() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("chatserver.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.warning("conversation %s closed", 7, extra=context(7, 3, "v-1"))
        logger.info("no context")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed", extra=context(conversation_id=8))
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["level"] == "warning" and first["logger"] == "chatserver.test-json"
    assert first["message"] == "conversation 7 closed" and first["ts"].endswith("+00:00")
    assert (first["conversation_id"], first["operator_id"], first["visitor_id"]) == (7, 3, "v-1")
    assert "conversation_id" not in lines[1]
    assert lines[2]["conversation_id"] == 8 and "ValueError: boom" in lines[2]["exc"]


def test_configure_logging_json_replaces_the_root_handlers() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        configure_logging("json")
        assert len(root.handlers) == 1 and isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)
