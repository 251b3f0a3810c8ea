"""The CLI as the contract states it, and a restart that loses no waiting chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatserver.settings import Settings

from .conftest import ServerFactory, run_server


def chatserver(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHAT_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "chatserver", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_operator_add_prints_the_id_and_refuses_a_duplicate_email(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    first = chatserver(
        "operator",
        "add",
        "--email",
        "eva@shop.example",
        "--name",
        "Eva",
        "--password",
        "s3cret",
        "--role",
        "admin",
        "--team",
        "billing",
        "--capacity",
        "5",
        "--title",
        "Team lead",
        db=db,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().isdigit()
    again = chatserver(
        "operator", "add", "--email", "EVA@shop.example", "--name", "Eva", "--password", "x", db=db
    )
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_a_bad_setting_stops_the_cli_with_a_message_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "CHAT_OPERATOR_GRACE_S": "soon", "CHAT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatserver",
            "operator",
            "add",
            "--email",
            "a@b",
            "--name",
            "A",
            "--password",
            "p",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "CHAT_OPERATOR_GRACE_S" in result.stderr


async def test_waiting_chat_survives_a_server_restart(start_server: ServerFactory, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/restart.db")
    async with run_server(settings) as first:
        visitor, session = await first.visitor()
        await visitor.say("Anyone there? I'll wait.")
        await visitor.expect("queue")
        await visitor.close()
    # The first server has stopped; a new one on the same database still has the chat waiting.
    second = await start_server(database_url=settings.database_url)
    _oid, token = await second.add_operator("Anna")
    anna = await second.operator(token)
    cid = (await anna.expect("assigned"))["conversation_id"]
    kept = await anna.expect("message", conversation_id=cid)
    assert kept["text"] == "Anyone there? I'll wait."
    back = await second.connect(
        "/ws/visitor", session["token"], resume={"conversation_id": cid, "last_seq": 1}
    )
    await back.expect("assigned", conversation_id=cid)


async def test_only_allowed_shops_may_call_the_visitor_api_from_a_browser(
    start_server: ServerFactory,
) -> None:
    server = await start_server(allowed_origins=("https://shop.example",))
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    ok = await server.http.options(
        "/api/visitor/sessions", headers={"origin": "https://shop.example", **preflight}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    created = await server.http.post(
        "/api/visitor/sessions", json={}, headers={"origin": "https://shop.example"}
    )
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "https://shop.example"
    foreign = await server.http.options(
        "/api/visitor/sessions", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in foreign.headers
    login = await server.http.options(
        "/api/operators/login", headers={"origin": "https://shop.example", **preflight}
    )
    assert "access-control-allow-origin" not in login.headers
