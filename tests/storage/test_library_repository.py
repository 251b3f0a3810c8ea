"""Reply libraries in the database: current rows, versions, imports and usage counters."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.repository import NewReply, ReplyExists, ReplyVersionConflict, UnknownReply

from .helpers import NOW

LIB = "default"


def _data(rid: str, text: str = "Hello.", language: str = "en") -> str:
    return json.dumps({"id": rid, "language": language, "text": text}, sort_keys=True)


def _admin(engine: Engine) -> int:
    op = repo.create_operator(
        engine, email="admin@example.com", name="Ada", password_hash="x", role="admin", now=NOW
    )
    return op.id


def _seed(engine: Engine) -> None:
    replies = [
        NewReply("en", "a", _data("a")),
        NewReply("en", "b", _data("b")),
        NewReply("pl", "a", _data("a", "Dzień dobry.", "pl")),
    ]
    assert repo.seed_replies(engine, library=LIB, replies=replies, now=NOW) == 3


def _ids(engine: Engine, language: str = "en") -> list[str]:
    return [r.response_id for r in repo.list_replies(engine, library=LIB, language=language)]


def test_seed_stores_replies_in_order_once(engine: Engine) -> None:
    assert repo.reply_revision(engine, library=LIB) == 0
    _seed(engine)
    rows = repo.list_replies(engine, library=LIB)
    assert [(r.language, r.response_id, r.version, r.deleted) for r in rows] == [
        ("en", "a", 1, False),
        ("en", "b", 1, False),
        ("pl", "a", 1, False),
    ]
    assert rows[0].updated_by is None and rows[0].updated_at == NOW
    versions = repo.reply_versions(engine, library=LIB, language="en", response_id="a")
    assert [(v.version, v.action, v.operator_id) for v in versions] == [(1, "seed", None)]
    assert repo.reply_revision(engine, library=LIB) > 0
    # Any row, even a deleted one, stops a second seed: the admin's edits win.
    repo.delete_reply(engine, library=LIB, language="en", response_id="a", operator_id=None, now=NOW)
    assert repo.seed_replies(engine, library=LIB, replies=[NewReply("en", "c", _data("c"))], now=NOW) == 0
    assert _ids(engine) == ["b"]
    # Libraries are separate.
    assert repo.seed_replies(engine, library="other", replies=[NewReply("en", "c", _data("c"))], now=NOW) == 1


def test_create_update_delete_restore_make_versions(engine: Engine) -> None:
    admin = _admin(engine)
    _seed(engine)
    created = repo.create_reply(
        engine, library=LIB, language="en", response_id="c", data=_data("c"), operator_id=admin, now=NOW + 1
    )
    assert (created.version, created.updated_by, created.updated_at) == (1, admin, NOW + 1)
    assert _ids(engine) == ["a", "b", "c"]  # new replies go last
    with pytest.raises(ReplyExists):
        repo.create_reply(
            engine, library=LIB, language="en", response_id="c", data=_data("c"), operator_id=admin, now=NOW
        )

    updated = repo.update_reply(
        engine,
        library=LIB,
        language="en",
        response_id="c",
        data=_data("c", "Hi."),
        operator_id=admin,
        now=NOW + 2,
    )
    assert updated.version == 2 and json.loads(updated.data)["text"] == "Hi."
    with pytest.raises(ReplyVersionConflict):
        repo.update_reply(
            engine,
            library=LIB,
            language="en",
            response_id="c",
            data=_data("c", "Stale."),
            operator_id=admin,
            now=NOW,
            expected_version=1,
        )

    deleted = repo.delete_reply(
        engine, library=LIB, language="en", response_id="c", operator_id=admin, now=NOW + 3
    )
    assert deleted.deleted and deleted.version == 3
    assert _ids(engine) == ["a", "b"]
    assert [r.response_id for r in repo.list_replies(engine, library=LIB, include_deleted=True)][2] == "c"
    with pytest.raises(UnknownReply):
        repo.update_reply(
            engine, library=LIB, language="en", response_id="c", data=_data("c"), operator_id=admin, now=NOW
        )
    with pytest.raises(UnknownReply):
        repo.delete_reply(engine, library=LIB, language="en", response_id="c", operator_id=admin, now=NOW)

    first = repo.get_reply_version(engine, library=LIB, language="en", response_id="c", version=1)
    assert first is not None and first.data is not None
    restored = repo.restore_reply(
        engine, library=LIB, language="en", response_id="c", data=first.data, operator_id=admin, now=NOW + 4
    )
    assert (restored.version, restored.deleted, json.loads(restored.data)["text"]) == (4, False, "Hello.")
    versions = repo.reply_versions(engine, library=LIB, language="en", response_id="c")
    assert [(v.version, v.action, v.operator_id, v.ts) for v in versions] == [
        (1, "create", admin, NOW + 1),
        (2, "update", admin, NOW + 2),
        (3, "delete", admin, NOW + 3),
        (4, "restore", admin, NOW + 4),
    ]
    assert versions[2].data is None and versions[1].data == _data("c", "Hi.")
    assert repo.get_reply_version(engine, library=LIB, language="en", response_id="c", version=9) is None
    with pytest.raises(UnknownReply):
        repo.restore_reply(
            engine, library=LIB, language="en", response_id="zz", data=_data("zz"), operator_id=None, now=NOW
        )


def test_create_over_a_deleted_reply_continues_its_versions(engine: Engine) -> None:
    _seed(engine)
    repo.delete_reply(engine, library=LIB, language="en", response_id="a", operator_id=None, now=NOW)
    again = repo.create_reply(
        engine,
        library=LIB,
        language="en",
        response_id="a",
        data=_data("a", "Back."),
        operator_id=None,
        now=NOW,
    )
    assert (again.version, again.deleted) == (3, False)
    assert _ids(engine) == ["a", "b"]  # it keeps its place


def test_import_merge_adds_and_updates_but_keeps_the_rest(engine: Engine) -> None:
    _seed(engine)
    summary = repo.import_replies(
        engine,
        library=LIB,
        replies=[NewReply("en", "b", _data("b", "Changed.")), NewReply("en", "z", _data("z"))],
        replace=False,
        operator_id=None,
        now=NOW,
    )
    assert summary == {"created": 1, "updated": 1, "unchanged": 0, "deleted": 0}
    assert _ids(engine) == ["a", "b", "z"] and _ids(engine, "pl") == ["a"]
    b = repo.get_reply(engine, library=LIB, language="en", response_id="b")
    assert b is not None and b.version == 2
    versions = repo.reply_versions(engine, library=LIB, language="en", response_id="b")
    assert versions[-1].action == "import"


def test_import_replace_deletes_the_missing_and_takes_the_document_order(engine: Engine) -> None:
    _seed(engine)
    repo.delete_reply(engine, library=LIB, language="en", response_id="b", operator_id=None, now=NOW)
    summary = repo.import_replies(
        engine,
        library=LIB,
        replies=[
            NewReply("en", "b", _data("b")),
            NewReply("en", "a", json.dumps(json.loads(_data("a")))),  # same data, other spelling
        ],
        replace=True,
        operator_id=None,
        now=NOW,
    )
    assert summary == {"created": 1, "updated": 0, "unchanged": 1, "deleted": 1}
    assert _ids(engine) == ["b", "a"] and _ids(engine, "pl") == []
    a = repo.get_reply(engine, library=LIB, language="en", response_id="a")
    assert a is not None and a.version == 1  # unchanged: no new version


def test_import_replace_of_one_language_leaves_the_others(engine: Engine) -> None:
    _seed(engine)
    summary = repo.import_replies(
        engine,
        library=LIB,
        replies=[NewReply("en", "a", _data("a"))],
        replace=True,
        languages=["en"],
        operator_id=None,
        now=NOW,
    )
    assert summary == {"created": 0, "updated": 0, "unchanged": 1, "deleted": 1}
    assert _ids(engine) == ["a"] and _ids(engine, "pl") == ["a"]


def test_a_failed_import_changes_nothing(engine: Engine) -> None:
    _seed(engine)
    before = repo.list_replies(engine, library=LIB, include_deleted=True)
    with pytest.raises(ValueError):
        repo.import_replies(
            engine,
            library=LIB,
            replies=[NewReply("en", "new", _data("new")), NewReply("en", "new", _data("new"))],
            replace=True,
            operator_id=None,
            now=NOW,
        )
    assert repo.list_replies(engine, library=LIB, include_deleted=True) == before


def test_usage_counters_add_up(engine: Engine) -> None:
    repo.increment_reply_usage(
        engine,
        library=LIB,
        counts={("en", "a", "suggested"): 3, ("en", "a", "sent_as_is"): 1, ("pl", "a", "ignored"): 0},
        now=NOW,
    )
    repo.increment_reply_usage(
        engine, library=LIB, counts={("en", "a", "suggested"): 2, ("en", "b", "sent_edited"): 1}, now=NOW + 5
    )
    repo.increment_reply_usage(engine, library=LIB, counts={}, now=NOW)
    rows = repo.reply_usage(engine, library=LIB)
    assert [(r.language, r.response_id, r.kind, r.count) for r in rows] == [
        ("en", "a", "sent_as_is", 1),
        ("en", "a", "suggested", 5),
        ("en", "b", "sent_edited", 1),
    ]
    assert rows[1].last_at == NOW + 5 and rows[0].last_at == NOW
    assert repo.reply_usage(engine, library=LIB, language="pl") == []
    assert repo.reply_usage(engine, library="other") == []
    with pytest.raises(ValueError):
        repo.increment_reply_usage(engine, library=LIB, counts={("en", "a", "liked"): 1}, now=NOW)
