"""store_messages: gap-free seqs, idempotent client_ids, batch results in input order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.errors import UnknownConversation

from .helpers import new_conversation, operator_says, system_says, visitor_says


def _row_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(repo.MESSAGE)).scalar_one())


def test_seqs_count_one_two_three(engine: Engine) -> None:
    conv = new_conversation(engine)
    first = repo.store_messages(engine, messages=[visitor_says(conv, "a")])
    rest = repo.store_messages(engine, messages=[visitor_says(conv, "b"), visitor_says(conv, "c")])
    stored = first + rest
    assert [m.seq for m in stored] == [1, 2, 3]
    assert [m.client_id for m in stored] == ["a", "b", "c"]
    assert not any(m.duplicate for m in stored)
    assert len({m.message_id for m in stored}) == 3
    conversation = repo.get_conversation(engine, conversation_id=conv.id)
    assert conversation is not None and conversation.last_seq == 3


def test_each_conversation_counts_on_its_own(engine: Engine) -> None:
    one, two = new_conversation(engine), new_conversation(engine)
    stored = repo.store_messages(
        engine,
        messages=[
            visitor_says(one, "1a"),
            visitor_says(two, "2a"),
            visitor_says(one, "1b"),
            system_says(two.id, "Ada joined"),
            visitor_says(one, "1c"),
        ],
    )
    assert [(m.conversation_id, m.seq) for m in stored] == [
        (one.id, 1),
        (two.id, 1),
        (one.id, 2),
        (two.id, 2),
        (one.id, 3),
    ]


def test_a_repeated_client_id_returns_the_original_and_stores_nothing(engine: Engine) -> None:
    conv = new_conversation(engine)
    [original] = repo.store_messages(engine, messages=[visitor_says(conv, "x", "hello")])
    [again] = repo.store_messages(engine, messages=[visitor_says(conv, "x", "hello again?")])
    assert again.duplicate
    assert (again.message_id, again.seq, again.text) == (original.message_id, 1, "hello")
    assert _row_count(engine) == 1
    [next_one] = repo.store_messages(engine, messages=[visitor_says(conv, "y")])
    assert next_one.seq == 2  # the duplicate used up no seq


def test_a_duplicate_inside_one_batch(engine: Engine) -> None:
    conv = new_conversation(engine)
    stored = repo.store_messages(
        engine,
        messages=[visitor_says(conv, "a"), visitor_says(conv, "b"), visitor_says(conv, "a")],
    )
    assert [(m.seq, m.duplicate) for m in stored] == [(1, False), (2, False), (1, True)]
    assert stored[2].message_id == stored[0].message_id
    assert _row_count(engine) == 2


def test_a_batch_mixing_stored_duplicates_and_new_messages(engine: Engine) -> None:
    conv = new_conversation(engine)
    repo.store_messages(engine, messages=[visitor_says(conv, "a")])
    stored = repo.store_messages(
        engine, messages=[visitor_says(conv, "b"), visitor_says(conv, "a"), visitor_says(conv, "c")]
    )
    assert [(m.client_id, m.seq, m.duplicate) for m in stored] == [
        ("b", 2, False),
        ("a", 1, True),
        ("c", 3, False),
    ]


def test_client_ids_are_unique_per_sender_only(engine: Engine) -> None:
    conv = new_conversation(engine)
    stored = repo.store_messages(
        engine,
        messages=[visitor_says(conv, "same"), operator_says(conv.id, 7, "same", "hello")],
    )
    assert [m.duplicate for m in stored] == [False, False]
    assert stored[1].author_name == "Ada" and stored[1].author_title == "Support"


def test_system_messages_are_never_deduplicated(engine: Engine) -> None:
    conv = new_conversation(engine)
    stored = repo.store_messages(
        engine, messages=[system_says(conv.id, "queued"), system_says(conv.id, "queued")]
    )
    assert [(m.seq, m.duplicate) for m in stored] == [(1, False), (2, False)]
    assert stored[0].client_id is None and stored[0].sender_id == ""


def test_an_unknown_conversation_fails_the_batch_and_stores_nothing(engine: Engine) -> None:
    conv = new_conversation(engine)
    with pytest.raises(UnknownConversation):
        repo.store_messages(engine, messages=[visitor_says(conv, "ok"), system_says(conv.id + 999, "lost")])
    assert _row_count(engine) == 0
    [stored] = repo.store_messages(engine, messages=[visitor_says(conv, "ok")])
    assert stored.seq == 1


def test_an_unknown_sender_kind_is_refused(engine: Engine) -> None:
    conv = new_conversation(engine)
    bad = visitor_says(conv, "a")
    with pytest.raises(ValueError):
        repo.store_messages(engine, messages=[bad.__class__(conv.id, "bot", "", "z", "?", 1.0)])
    assert repo.store_messages(engine, messages=[]) == []


def test_messages_after_returns_exactly_the_later_ones_in_order(engine: Engine) -> None:
    conv, other = new_conversation(engine), new_conversation(engine)
    repo.store_messages(
        engine,
        messages=[visitor_says(conv, f"m{i}", f"text {i}") for i in range(1, 6)]
        + [visitor_says(other, "elsewhere")],
    )
    later = repo.messages_after(engine, conversation_id=conv.id, after_seq=2)
    assert [(m.seq, m.text) for m in later] == [(3, "text 3"), (4, "text 4"), (5, "text 5")]
    assert not any(m.duplicate for m in later)
    assert repo.messages_after(engine, conversation_id=conv.id, after_seq=5) == []
    page = repo.messages_after(engine, conversation_id=conv.id, after_seq=0, limit=2)
    assert [m.seq for m in page] == [1, 2]


def test_a_replayed_message_equals_the_stored_one(engine: Engine) -> None:
    conv = new_conversation(engine)
    [stored] = repo.store_messages(engine, messages=[operator_says(conv.id, 3, "k", "Hi, I'm Ada")])
    [replayed] = repo.messages_after(engine, conversation_id=conv.id, after_seq=0)
    assert replayed == stored
