"""The learned situation model's interface: training, scores, bytes, switching models."""

from __future__ import annotations

import pytest

from responses.devset import Item, load
from responses.recognize import recognize, use_model
from responses.recognize.learned import LABELS, SituationModel, shipped, train_model


@pytest.fixture(scope="module")
def small() -> SituationModel:
    items = [it for it in load("train") if it.id.startswith("wb-en")]
    return train_model(items, seed=0)


def test_scores_cover_the_nine_labels_and_sum_to_one(small: SituationModel) -> None:
    scores = small.scores(["hi", "the kettle arrived with a cracked lid"])
    assert set(scores) == set(LABELS) and len(LABELS) == 9
    assert sum(scores.values()) == pytest.approx(1.0)


def test_bytes_round_trip_is_exact_and_deterministic(small: SituationModel) -> None:
    data = small.to_bytes()
    again = SituationModel.from_bytes(data)
    assert again.to_bytes() == data
    messages = ["can I return opened headphones after 60 days?"]
    assert again.scores(messages) == pytest.approx(small.scores(messages), abs=1e-5)


def test_use_model_switches_recognize_and_none_restores_the_shipped_one() -> None:
    tiny = [
        Item(str(i), "en", (text,), label, "train")
        for i, (text, label) in enumerate([("it is broken", "defect"), ("hello there", None)] * 2)
    ]
    only_defects = train_model(tiny)
    try:
        use_model(only_defects)
        assert recognize(["where is my parcel"]).situation in ("defect", None)
        assert recognize(["it is broken"]).situation == "defect"
    finally:
        use_model(None)
    assert recognize(["thanks, bye!"]).situation == "ending"
    assert shipped().scores(["thanks, bye!"])["ending"] > 0.5


def test_recognition_has_three_candidates_best_first() -> None:
    result = recognize(["the zip on my new jacket broke on day one"])
    assert result.situation == "defect"
    assert len(result.candidates) == 3
    assert result.candidates[0] == ("defect", result.score)
    assert result.candidates[0][1] >= result.candidates[1][1] >= result.candidates[2][1]
