"""Learning from the operators over a real server: feedback stored, retraining, the report, the CLI."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from chatserver.situation_learning import SituationLearning
from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine, migrate
from responses import devset
from responses.recognize.learned import SituationModel

from .conftest import Client, Server
from .test_cli_and_restart import chatserver

RETRAIN = "/api/admin/assistant/retrain"
REPORT = "/api/admin/assistant/report"
KETTLE = "My new kettle arrived with a cracked lid, it is broken"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _learning(server: Server) -> SituationLearning:
    learning = server.state.learning
    assert isinstance(learning, SituationLearning)
    return learning


async def _feedback(server: Server) -> list[repo.FeedbackRow]:
    await _learning(server).flush()
    return await server.state.writer.read(repo.list_situation_feedback)


async def _chat(server: Server, text: str) -> tuple[Client, Client, int, dict[str, Any], int]:
    """An operator, a visitor who said ``text``, the chat, its suggestions, the operator id."""
    oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="en")
    ack = await visitor.say(text)
    cid = (await anna.expect("assigned"))["conversation_id"]
    suggestions = await anna.expect("suggestions", conversation_id=cid, seq=ack["seq"])
    return anna, visitor, cid, suggestions, oid


async def test_an_operator_corrects_the_situation_and_gets_its_replies(server: Server) -> None:
    anna, _visitor, cid, first, oid = await _chat(
        server, "My new kettle arrived with a cracked lid, it is broken"
    )
    assert first["situation"] == "defect"
    seq = first["seq"]
    await anna.send({"type": "situation", "conversation_id": cid, "seq": seq, "situation": "hater"})
    corrected = await anna.expect("suggestions", conversation_id=cid, seq=seq, corrected=True)
    assert corrected["situation"] == "hater"
    assert corrected["items"] and all(item["situation"] == "hater" for item in corrected["items"])
    rows = await _feedback(server)
    assert [(r.conversation_id, r.seq, r.recognized, r.corrected, r.source, r.operator_id) for r in rows] == [
        (cid, seq, "defect", "hater", "corrected", oid)
    ]
    assert rows[0].messages[-1] == KETTLE
    assert rows[0].score > 0

    # What the server refuses: an unknown label, a message nobody recognised, a chat not yours.
    await anna.send({"type": "situation", "conversation_id": cid, "seq": seq, "situation": "angry"})
    assert (await anna.expect("error"))["code"] == "invalid_field"
    await anna.send({"type": "situation", "conversation_id": cid, "seq": seq + 50, "situation": "none"})
    assert (await anna.expect("error"))["code"] == "invalid_field"
    await anna.send({"type": "situation", "conversation_id": cid, "situation": "none"})
    assert (await anna.expect("error"))["code"] == "missing_field"
    _bob_id, bob_token = await server.add_operator("Bob")
    bob = await server.operator(bob_token)
    await bob.send({"type": "situation", "conversation_id": cid, "seq": seq, "situation": "none"})
    assert (await bob.expect("error"))["code"] == "not_your_conversation"
    assert len(await _feedback(server)) == 1


async def test_a_picked_reply_is_stored_as_evidence_of_its_situation(server: Server) -> None:
    anna, visitor, cid, first, oid = await _chat(
        server, "My new kettle arrived with a cracked lid, it is broken"
    )
    picked = first["items"][0]
    await anna.say(re.sub(r"\[\[[^\]]+\]\]", "ORD-7", picked["text"]), conversation_id=cid)
    await visitor.expect("message", sender="operator")
    rows = await _feedback(server)
    assert [(r.seq, r.recognized, r.corrected, r.source, r.operator_id) for r in rows] == [
        (first["seq"], "defect", picked["situation"], "picked", oid)
    ]
    # A reply of the operator's own says nothing about the situation.
    await anna.say("Let me check that for you.", conversation_id=cid)
    assert len(await _feedback(server)) == 1


async def test_an_admin_retrains_and_the_report_shows_before_and_after(server: Server) -> None:
    anna, _visitor, cid, first, _oid = await _chat(
        server, "My new kettle arrived with a cracked lid, it is broken"
    )
    await anna.send({"type": "situation", "conversation_id": cid, "seq": first["seq"], "situation": "hater"})
    await anna.expect("suggestions", conversation_id=cid, corrected=True)
    # More labelled messages, written as the console would have them.
    now = time.time()
    for n in range(3):
        await server.state.writer.run(
            repo.add_situation_feedback,
            conversation_id=cid,
            seq=100 + n,
            language="en",
            messages=[f"where is my parcel number {n}, it is late"],
            recognized="none",
            score=0.9,
            corrected="out_of_stock" if n else "none",
            source="corrected" if n else "picked",
            operator_id=None,
            now=now + n,
        )
    _aid, admin_token = await server.add_operator("Root", role="admin")
    admin = _auth(admin_token)

    before = (await server.http.get(REPORT, headers=admin)).json()
    assert before["feedback"] == {"total": 4, "picked": 1, "corrected": 3, "labelled": 4}
    assert before["last_retrain"] is None and before["model"] == {"in_use": "shipped"}

    _learning(server).base_items = devset.load("train")[:150]  # seconds, not a minute, per training
    response = await server.http.post(RETRAIN, headers=admin, timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["labelled"] == 4 and result["feedback"] == 4
    assert result["holdout"] == {"method": "newest", "items": 1}
    for key in ("accuracy_before", "accuracy_after"):
        assert 0.0 <= result[key] <= 1.0
    assert result["train_items"] == 150 + 4 * 3  # the dev-set items, and each labelled message 3 times

    report = (await server.http.get(REPORT, headers=admin)).json()
    assert report["model"] == {"in_use": result["id"]}
    last = report["last_retrain"]
    assert last["id"] == result["id"] and last["accuracy_after"] == result["accuracy_after"]
    assert last["accuracy_before"] == result["accuracy_before"] and last["operator_id"] == _aid
    assert {(c["recognized"], c["corrected"], c["count"]) for c in report["confusion"]} == {
        ("defect", "hater", 1),
        ("none", "out_of_stock", 2),
    }
    # The stored model is the one in use, and it round-trips through its bytes.
    stored = await server.state.writer.read(repo.latest_situation_model)
    assert stored is not None and stored.id == result["id"]
    assert isinstance(SituationModel.from_bytes(stored.data).scores(["hello"]), dict)
    assert _learning(server).model_id == stored.id


async def test_a_process_starting_up_uses_the_latest_stored_model(server: Server) -> None:
    _aid, admin_token = await server.add_operator("Root", role="admin")
    _learning(server).base_items = devset.load("train")[:150]
    result = (await server.http.post(RETRAIN, headers=_auth(admin_token), timeout=60)).json()
    assert result["accuracy_before"] is None and result["holdout"]["method"] == "none"
    other = SituationLearning(server.state.writer, server.state.broker)
    await other.start()
    try:
        assert other.model_id == result["id"]
    finally:
        await other.close()
    # Another process announcing a newer model: this one loads it.
    learning = _learning(server)
    model_id = await server.state.writer.run(
        repo.store_situation_model,
        data=learning.model.to_bytes() if learning.model else b"",
        report={},
        operator_id=None,
        now=time.time(),
    )
    await server.state.broker.publish("assistant:model", str(model_id))
    for _ in range(100):
        if learning.model_id == model_id:
            break
        await _sleep()
    assert learning.model_id == model_id


async def _sleep() -> None:
    await asyncio.sleep(0.02)


@pytest.mark.parametrize("path,method", [(RETRAIN, "POST"), (REPORT, "GET")])
async def test_only_admins_retrain_or_read_the_report(server: Server, path: str, method: str) -> None:
    _oid, token = await server.add_operator("Bob")
    response = await server.http.request(method, path, headers=_auth(token))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = await server.http.request(method, path)
    assert response.status_code == 401


def test_the_cli_retrains_against_a_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    engine = create_db_engine(f"sqlite:///{db}")
    migrate(engine)
    try:
        visitor = repo.create_visitor(engine, visitor_id="v-1", locale="en", now=1.0)
        conversation = repo.open_conversation(
            engine, visitor_id=visitor.id, customer_id=None, locale="en", now=1.0
        )
        for n in range(12):
            repo.add_situation_feedback(
                engine,
                conversation_id=conversation.id,
                seq=n + 1,
                language="en",
                messages=[f"is the item number {n} coming back in stock soon?"],
                recognized="none",
                score=0.8,
                corrected="out_of_stock",
                source="corrected",
                operator_id=None,
                now=10.0 + n,
            )
    finally:
        engine.dispose()
    done = chatserver("assistant", "retrain", "--base-items", "150", db=db)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["labelled"] == 12 and result["holdout"] == {"method": "newest", "items": 2}
    assert result["accuracy_after"] is not None and result["accuracy_before"] is not None
    engine = create_db_engine(f"sqlite:///{db}")
    try:
        stored = repo.latest_situation_model(engine)
        assert stored is not None and stored.id == result["id"]
        assert stored.report["accuracy_after"] == result["accuracy_after"]
    finally:
        engine.dispose()
