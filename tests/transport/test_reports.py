"""GET /api/admin/reports and its CSV tables over the real server, on a known set of conversations.

The conversations and every figure of their report, worked out by hand, are in
``tests/storage/report_data.py`` (the same figures are checked on PostgreSQL there).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.storage.report_data import DAY, FROM, TO, build, expected

from .conftest import Server


async def _seeded(server: Server) -> tuple[dict[str, Any], dict[str, str]]:
    ids = await server.state.writer.run(build)
    _, admin = await server.add_operator("Lead", role="admin")
    return ids, {"Authorization": f"Bearer {admin}"}


async def test_the_report_over_http_matches_the_hand_worked_figures(server: Server) -> None:
    ids, auth = await _seeded(server)
    response = await server.http.get("/api/admin/reports", params={"from": FROM, "to": TO}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == expected(ids)


async def test_filters(server: Server) -> None:
    ids, auth = await _seeded(server)
    period = {"from": FROM, "to": TO}
    sales = (
        await server.http.get("/api/admin/reports", params={**period, "team": "sales"}, headers=auth)
    ).json()
    assert sales["filters"] == {"team": "sales", "operator_id": None}
    # C1, C2, C5, C7: served C1, C2, C5 (first responses 50, 90, 20 -> p50 rank 2 = 50); C7 abandoned
    conv = sales["conversations"]
    assert (conv["total"], conv["served"], conv["abandoned"], conv["first_response_p50_s"]) == (4, 3, 1, 50.0)
    # ratings C1, C2, C5: 5, 4, 5; nps 10, 8, 9 -> (2 - 0) / 3 = 66.7
    assert (sales["satisfaction"]["stars_mean"], sales["satisfaction"]["nps"]) == (4.67, 66.7)
    anna = (
        await server.http.get(
            "/api/admin/reports", params={**period, "operator_id": ids["anna"]}, headers=auth
        )
    ).json()
    assert anna["filters"] == {"team": None, "operator_id": ids["anna"]}
    # C1 and C2: waits 30, 60 -> p50 rank 1 = 30, p90 rank 2 = 60; handle 570, 900
    conv = anna["conversations"]
    assert (conv["total"], conv["wait_p50_s"], conv["wait_p90_s"], conv["handle_p90_s"]) == (
        2,
        30.0,
        60.0,
        900.0,
    )
    assert anna["satisfaction"]["by_operator"] == [
        {"operator_id": ids["anna"], "name": "Anna", "ratings": 2, "stars_mean": 4.5, "nps": 50.0}
    ]
    # C1's transfer lacked a benefit; C2's nudge
    assert anna["etiquette"]["transfers"] == 1
    assert anna["etiquette"]["transfers_with_reason_and_benefit"] == 0
    assert anna["etiquette"]["nudges"] == 1
    first_day = (
        await server.http.get("/api/admin/reports", params={"from": FROM, "to": FROM + DAY}, headers=auth)
    ).json()
    assert [d["day"] for d in first_day["conversations"]["by_day"]] == ["2026-03-02"]
    assert first_day["conversations"]["total"] == 4


async def test_the_default_period_is_the_last_seven_days(server: Server) -> None:
    _, auth = await _seeded(server)
    before = int(server.state.clock())
    body = (await server.http.get("/api/admin/reports", headers=auth)).json()
    assert body["period"]["to"] - body["period"]["from"] == 7 * DAY
    assert before <= body["period"]["to"] <= before + 5
    assert body["conversations"]["total"] == 0  # the known conversations are in March
    assert body["conversations"]["wait_p50_s"] is None
    assert body["satisfaction"]["nps"] is None and body["wait_honesty"]["coverage"] is None
    assert body["assistant"]["replies"]  # the usage counters are not dated: always all of them


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_csv_tables(server: Server) -> None:
    ids, auth = await _seeded(server)
    period = {"from": FROM, "to": TO}
    by_day = await server.http.get("/api/admin/reports/conversations_by_day.csv", params=period, headers=auth)
    assert by_day.status_code == 200
    assert by_day.headers["content-type"].startswith("text/csv")
    assert _csv(by_day.text) == [
        ["day", "total", "served", "abandoned", "first_response_p50_s"],
        ["2026-03-02", "4", "3", "1", "90.0"],
        ["2026-03-03", "3", "2", "1", "20.0"],
    ]
    operators = await server.http.get(
        "/api/admin/reports/satisfaction_by_operator.csv", params=period, headers=auth
    )
    assert _csv(operators.text) == [
        ["operator_id", "name", "ratings", "stars_mean", "nps"],
        [str(ids["anna"]), "Anna", "2", "4.5", "50.0"],
        [str(ids["boris"]), "Boris", "2", "3.5", "0.0"],
        ["", "", "1", "1.0", ""],
    ]
    comments = await server.http.get(
        "/api/admin/reports/comments.csv", params={**period, "team": "support"}, headers=auth
    )
    assert [row[:4] for row in _csv(comments.text)] == [
        ["conversation_id", "stars", "nps", "comment"],
        [str(ids["C3"]), "2", "3", "Too slow"],
        [str(ids["C4"]), "1", "", "nobody came"],
    ]
    for table, rows in (("satisfaction_by_team", 3), ("replies", 3), ("situations", 3)):
        got = await server.http.get(f"/api/admin/reports/{table}.csv", params=period, headers=auth)
        assert got.status_code == 200 and len(_csv(got.text)) == rows, (table, got.text)
    missing = await server.http.get("/api/admin/reports/nothing.csv", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "-5"}, "from"),
        ({"to": "nan"}, "to"),
        ({"from": "100", "to": "100"}, "to"),
        ({"from": "200", "to": "100"}, "to"),
        ({"operator_id": "0"}, "operator_id"),
        ({"operator_id": "x"}, "operator_id"),
        ({"operator_id": str(2**40)}, "operator_id"),
        ({"team": ""}, "team"),
        ({"team": "t" * 101}, "team"),
    ],
)
async def test_bad_values_are_422_naming_the_field(
    server: Server, params: dict[str, str], field: str
) -> None:
    _, admin = await server.add_operator("Lead", role="admin")
    for path in ("/api/admin/reports", "/api/admin/reports/comments.csv"):
        response = await server.http.get(path, params=params, headers={"Authorization": f"Bearer {admin}"})
        assert response.status_code == 422, response.text
        assert response.json()["error"] == {
            "code": "invalid_field",
            "message": response.json()["error"]["message"],
            "field": field,
        }


async def test_only_admins_read_reports(server: Server) -> None:
    _, operator = await server.add_operator("Olga")
    response = await server.http.get("/api/admin/reports", headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 403
    assert (await server.http.get("/api/admin/reports/comments.csv")).status_code == 401
