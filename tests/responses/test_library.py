"""The default library and the loader: structure, validation errors, export, search."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from responses.errors import LibraryError
from responses.fill import fill, find_unfilled
from responses.library import (
    GENERAL,
    SITUATIONS,
    Library,
    Response,
    default_library,
    load_library,
    save_library,
    validate_response,
)
from responses.variables import VARIABLES, Variable

LANGUAGES = ("en", "pl", "cs", "ru")
FULL_CONTEXT = {name: v.example or "x" for name, v in VARIABLES.items()}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


# -- the default library ---------------------------------------------------------------


def test_default_library_has_every_language(library: Library) -> None:
    assert set(LANGUAGES) <= set(library.languages)
    assert default_library().responses == library.responses


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("situation", SITUATIONS)
def test_three_or_more_distinct_replies_per_situation(
    library: Library, language: str, situation: str
) -> None:
    replies = library.for_situation(language, situation)
    assert len(replies) >= 3
    assert len({r.text for r in replies}) == len(replies)
    assert all(r.language == language and r.situation == situation for r in replies)


@pytest.mark.parametrize("language", LANGUAGES)
def test_general_replies_cover_greeting_order_number_and_signature(library: Library, language: str) -> None:
    general = {r.id: r for r in library.for_situation(language, GENERAL)}
    assert {"general.greeting", "general.order_number", "general.signature"} <= set(general)
    signature = general["general.signature"]
    assert {"operator.name", "operator.title", "company.name"} <= set(signature.variables)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_fills_completely_with_a_full_context(library: Library, language: str) -> None:
    for response in library.in_language(language):
        filled = fill(response, FULL_CONTEXT)
        assert filled.missing == [], response.id
        assert filled.complete
        assert find_unfilled(filled.text) == [], response.id
        assert "  " not in filled.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_context_reports_every_slot_and_leaves_a_marker(library: Library, language: str) -> None:
    for response in library.in_language(language):
        filled = fill(response, {})
        assert set(response.slots) <= set(filled.missing), response.id
        assert set(filled.missing) == set(response.variables)
        assert find_unfilled(filled.text) == list(
            dict.fromkeys(s.value for s in filled.segments if s.kind == "slot")
        )
        for slot in response.slots:
            assert f"[[{slot}]]" in filled.text
            assert slot in find_unfilled(filled.text)
        # Optional variables vanish without leaving stray punctuation behind.
        assert not re.search(r"\s[,.!?:]|,\s*[,.!?]|^\W", filled.text), (response.id, filled.text)


# The playbook's structure, as far as variables can show it.
REQUIRED_SLOTS = {
    "out_of_stock": {"restock.date"},
    "pointless_suggestion": {"feature.name"},
    "dont_know": {"followup.time"},
    "transfer": {"team.name", "wait.minutes"},
    "cannot_do": {"policy.reason", "alternative"},
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("situation", sorted(REQUIRED_SLOTS))
def test_replies_carry_the_slots_their_structure_needs(
    library: Library, language: str, situation: str
) -> None:
    for response in library.for_situation(language, situation):
        assert REQUIRED_SLOTS[situation] <= set(response.slots), response.id


def test_out_of_stock_leads_with_the_date_not_the_absence(library: Library) -> None:
    for response in library.for_situation("en", "out_of_stock"):
        first_sentence = re.split(r"(?<=[.!?])\s", response.text)[0]
        assert "{restock.date}" in first_sentence
        assert not re.search(r"\b(not|don't|no longer|out of stock|sold out)\b", first_sentence)


def test_english_refusals_are_policies_not_cant(library: Library) -> None:
    for response in library.for_situation("en", "cannot_do"):
        assert not re.search(r"\b(can't|cannot|can not)\b", response.text), response.id
        assert re.search(r"\b(policy|rule|we don't|don't make)\b", response.text), response.id


FORMAL = {
    # Lower-case polite pronouns (capitalised in Czech and Russian service writing)
    # and the informal singular you, which none of the replies should use.
    "pl": r"\b(ty|cię|ciebie|tobie|twój|twoja|twoje|twojego|masz|możesz)\b",
    "cs": r"\b(vy|vás|vám|váš|vaše|vaši|tvůj|tvoje|tobě|máš|můžeš)\b",
    "ru": r"\b(вы|вас|вам|вами|ваш|ваша|ваше|ваши|вашего|вашу|ты|тебя|тебе|твой)\b",
}


@pytest.mark.parametrize("language", sorted(FORMAL))
def test_formal_address(library: Library, language: str) -> None:
    for response in library.in_language(language):
        found = re.findall(FORMAL[language], response.text)
        assert not found, (response.id, found)


def test_lookups(library: Library) -> None:
    reply = library.get("pl", "defect.replace_now")
    assert reply.language == "pl" and reply.situation == "defect"
    assert set(library.by_id("defect.replace_now")) == set(LANGUAGES)
    with pytest.raises(KeyError):
        library.get("pl", "no.such.reply")
    assert library.for_situation("xx", "defect") == ()


# -- search ----------------------------------------------------------------------------


def test_search_by_shortcut_prefix(library: Library) -> None:
    hits = library.search("en", "/def")
    assert [r.shortcut for r in hits] == ["/defect1", "/defect2", "/defect3", "/defect4"]
    assert library.search("cs", "/DEFECT2")[0].id == "defect.refund_or_replace"
    assert library.search("en", "/nothing") == []


@pytest.mark.parametrize(
    ("language", "query", "expected"),
    [
        ("pl", "zwrot pieniedzy", "defect.refund_or_replace"),
        ("pl", "WYMIANA ZWROT", "defect.refund_or_replace"),
        ("cs", "vymena vraceni penez", "defect.refund_or_replace"),
        ("cs", "pravidlo duvod", "cannot_do.policy_alternative"),
        ("ru", "возврат денег", "defect.refund_or_replace"),
        ("ru", "ещё", "ending.anything_else"),
        ("en", "refund", "defect.refund_or_replace"),
        ("pl", "powiadomienie dostepnosc", "out_of_stock.notify"),
    ],
)
def test_search_by_words_ignores_accents_and_case(
    library: Library, language: str, query: str, expected: str
) -> None:
    hits = [r.id for r in library.search(language, query)]
    assert expected in hits
    assert all(library.get(language, h).language == language for h in hits)


def test_search_ranks_title_hits_first_and_needs_every_word(library: Library) -> None:
    assert library.search("en", "refund")[0].id == "defect.refund_or_replace"
    assert library.search("en", "refund zebra") == []
    assert library.search("en", "   ") == []


# -- export and import ------------------------------------------------------------------


def test_export_import_round_trip(library: Library) -> None:
    exported = json.loads(json.dumps(library.to_json(), ensure_ascii=False))
    assert exported["library"] == "default"
    assert {r["language"] for r in exported["responses"]} == set(LANGUAGES)
    again = Library.from_json(exported)
    assert again.responses == tuple(r for lang in library.languages for r in library.in_language(lang))
    assert again.to_json() == exported


def test_save_and_load_round_trip(library: Library, tmp_path: Path) -> None:
    written = save_library(library, root=tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{lang}.json" for lang in library.languages)
    again = load_library("default", root=tmp_path)
    assert set(again.responses) == set(library.responses)


def test_import_of_a_single_language_file(library: Library) -> None:
    content = library.files()["cs"]
    imported = Library.from_json(content)
    assert imported.languages == ("cs",)
    assert len(imported) == len(library.in_language("cs"))


# -- validation --------------------------------------------------------------------------


def _reply(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "defect.test",
        "situation": "defect",
        "language": "en",
        "title": "Test",
        "shortcut": "/t1",
        "text": "Sorry, {customer.first_name}! A new one ships {restock.date}.",
        "slots": ["restock.date"],
        "tags": ["apology"],
    }
    data.update(overrides)
    return data


def _write(root: Path, language: str, responses: list[dict[str, Any]], **top: Any) -> Path:
    folder = root / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{language}.json"
    content = {"library": "shop", "language": language, "responses": responses, **top}
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def _load_error(
    tmp_path: Path, responses: list[dict[str, Any]], language: str = "en", **top: Any
) -> LibraryError:
    _write(tmp_path, language, responses, **top)
    with pytest.raises(LibraryError) as caught:
        load_library("shop", root=tmp_path)
    return caught.value


def test_a_valid_file_loads(tmp_path: Path) -> None:
    _write(tmp_path, "en", [_reply(), _reply(id="defect.other", shortcut="/t2")])
    lib = load_library("shop", root=tmp_path)
    assert [r.id for r in lib.for_situation("en", "defect")] == ["defect.test", "defect.other"]
    assert lib.get("en", "defect.test").slots == ("restock.date",)


@pytest.mark.parametrize(
    ("override", "entry", "field", "code"),
    [
        ({"text": "Hi {customer.frist_name}"}, "defect.test", "text", "unknown_variable"),
        ({"text": "Hi {Customer Name}", "slots": []}, "defect.test", "text", "unknown_variable"),
        ({"text": "   ", "slots": []}, "defect.test", "text", "empty_text"),
        ({"situation": "angry"}, "defect.test", "situation", "unknown_situation"),
        ({"slots": ["restock.date", "order.id"]}, "defect.test", "slots", "invalid_field"),
        ({"slots": ["restock.when"]}, "defect.test", "slots", "unknown_variable"),
        ({"language": "pl"}, "defect.test", "language", "invalid_field"),
        ({"id": ""}, 0, "id", "invalid_field"),
        ({"shortcut": "defect 1"}, "defect.test", "shortcut", "invalid_field"),
        ({"tags": "apology"}, "defect.test", "tags", "invalid_field"),
        ({"title": ""}, "defect.test", "title", "invalid_field"),
        ({"colour": "red"}, "defect.test", "colour", "invalid_field"),
        ({"text": "Hey ______, thanks!", "slots": []}, "defect.test", "text", "invalid_field"),
        ({"text": "[Feature X] is not planned.", "slots": []}, "defect.test", "text", "invalid_field"),
    ],
)
def test_validation_errors_name_file_entry_field_and_code(
    tmp_path: Path, override: dict[str, Any], entry: object, field: str, code: str
) -> None:
    error = _load_error(tmp_path, [_reply(**override)])
    assert error.file.endswith("en.json")
    assert (error.entry, error.field, error.code) == (entry, field, code)
    assert "en.json" in str(error) and field in str(error) and code in str(error)


def test_unknown_variable_suggests_the_close_name(tmp_path: Path) -> None:
    error = _load_error(tmp_path, [_reply(text="Hi {customer.frist_name}", slots=[])])
    assert "{customer.first_name}" in error.message


def test_duplicate_id_names_the_second_entry(tmp_path: Path) -> None:
    error = _load_error(tmp_path, [_reply(), _reply(shortcut="/t2")])
    assert (error.code, error.entry, error.field) == ("duplicate_id", "defect.test", "id")
    assert error.file.endswith("en.json")


def test_duplicate_shortcut(tmp_path: Path) -> None:
    error = _load_error(tmp_path, [_reply(), _reply(id="defect.other", shortcut="/T1")])
    assert (error.code, error.entry, error.field) == ("duplicate_shortcut", "defect.other", "shortcut")


def test_same_id_in_two_languages_is_fine(tmp_path: Path) -> None:
    _write(tmp_path, "en", [_reply()])
    _write(tmp_path, "pl", [_reply(language="pl", text="Przepraszam! Nowy {restock.date}.")])
    lib = load_library("shop", root=tmp_path)
    assert set(lib.by_id("defect.test")) == {"en", "pl"}


def test_a_reply_may_omit_its_language(tmp_path: Path) -> None:
    data = _reply()
    del data["language"]
    _write(tmp_path, "cs", [data])
    assert load_library("shop", root=tmp_path).get("cs", "defect.test").language == "cs"


def test_file_language_must_match_its_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "en", [_reply()])
    path.rename(path.with_name("pl.json"))
    with pytest.raises(LibraryError) as caught:
        load_library("shop", root=tmp_path)
    assert (caught.value.entry, caught.value.field, caught.value.code) == (None, "language", "invalid_field")
    assert caught.value.file.endswith("pl.json")


def test_broken_json_and_missing_library(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "en.json").write_text('{"library": "shop",', encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        load_library("shop", root=tmp_path)
    assert caught.value.code == "invalid_field" and "line 1" in caught.value.message
    with pytest.raises(FileNotFoundError):
        load_library("absent", root=tmp_path)


def test_validate_response_for_an_admin_api() -> None:
    response = validate_response(_reply())
    assert isinstance(response, Response)
    assert response.variables == ("customer.first_name", "restock.date")
    with pytest.raises(LibraryError) as caught:
        validate_response(_reply(situation="nope"))
    assert caught.value.to_dict()["code"] == "unknown_situation"
    assert caught.value.to_dict()["field"] == "situation"


def test_the_variable_list_is_open_to_extension() -> None:
    data = _reply(text="Track it here: {order.tracking_url}", slots=[])
    with pytest.raises(LibraryError):
        validate_response(data)
    extended = {**VARIABLES, "order.tracking_url": Variable("order.tracking_url", "Tracking link")}
    assert validate_response(data, variables=extended).variables == ("order.tracking_url",)


def test_every_builtin_variable_is_described() -> None:
    expected = {
        "customer.first_name",
        "customer.name",
        "operator.name",
        "operator.title",
        "company.name",
        "order.id",
        "order.status",
        "product.name",
        "restock.date",
        "wait.minutes",
        "team.name",
        "followup.time",
        "policy.name",
        "policy.reason",
        "alternative",
        "feature.name",
    }
    assert expected <= set(VARIABLES)
    assert all(v.description for v in VARIABLES.values())


def test_the_package_stays_pure() -> None:
    root = Path(__file__).parents[2] / "responses"
    pattern = re.compile(r"^\s*(from|import)\s+(chatserver|starlette|sqlmodel|redis|asyncio)\b", re.M)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
