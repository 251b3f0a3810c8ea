"""The admin Reports page (/admin#reports) in headless Debian Chromium.

The page comes from the real server (teams and operators too); the report API itself is
answered in the browser with ``page.route``: a fixed report (and CSV) written here, so the test
pins what the page shows for given figures and which queries it sends.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page, Request, Route, ViewportSize, expect

from tests.transport.conftest import Server

from . import test_console
from .conftest import DESKTOP, PHONE, SCREENSHOTS
from .test_admin import admin_tab
from .test_console import XSS, Tab, TabFactory, make_operator

# The console tests' fixtures, bound here so pytest finds them for these tests too.
desk = test_console.desk
tabs = test_console.tabs

DAYS = [f"2024-05-{d:02d}" for d in range(6, 13)]
REPORT: dict[str, Any] = {
    "period": {"from": 1714953600, "to": 1715558400},
    "filters": {"team": None, "operator_id": None},
    "conversations": {
        "total": 412,
        "served": 371,
        "abandoned": 41,
        "first_response_p50_s": 38,
        "first_response_p90_s": 151,
        "wait_p50_s": 74,
        "wait_p90_s": 312,
        "handle_p50_s": 420,
        "handle_p90_s": 1260,
        "by_day": [
            {
                "day": day,
                "total": total,
                "served": total - lost,
                "abandoned": lost,
                "first_response_p50_s": fr,
            }
            for day, total, lost, fr in zip(
                DAYS,
                (58, 71, 66, 49, 80, 52, 36),
                (5, 9, 6, 3, 11, 4, 3),
                (35, 42, None, 31, 55, 36, 30),
                strict=True,
            )
        ],
    },
    "satisfaction": {
        "ratings": 168,
        "stars_mean": 4.38,
        "nps": 42,
        "promoters": 88,
        "passives": 54,
        "detractors": 26,
        "by_team": [
            {"team": "billing", "ratings": 70, "stars_mean": 4.51, "nps": 50},
            {"team": "support", "ratings": 98, "stars_mean": 4.29, "nps": 36},
        ],
        "by_operator": [
            {"operator_id": 7, "name": "Piotr Zieliński", "ratings": 61, "stars_mean": 4.6, "nps": 57},
            {"operator_id": 8, "name": "Olga Nowak", "ratings": 107, "stars_mean": 4.25, "nps": -4},
        ],
        "comments": [
            {
                "conversation_id": 1201,
                "stars": 5,
                "nps": 10,
                "comment": "Quick and kind, thanks!",
                "created_at": 1715500000,
            },
            {"conversation_id": 1188, "stars": 2, "nps": 3, "comment": XSS, "created_at": 1715400000},
        ],
    },
    "wait_honesty": {
        "promises": 230,
        "mae_s": 27,
        "coverage": 0.874,
        "overruns": 14,
        "overruns_announced": 13,
    },
    "etiquette": {
        "transfers": 33,
        "transfers_with_reason_and_benefit": 31,
        "nudges": 12,
        "holding_lines": 57,
        "left_messages": 9,
        "left_message_answer_p50_s": 2700,
    },
    "assistant": {
        "situations": [{"situation": "defect", "count": 96}, {"situation": "out_of_stock", "count": 41}],
        "replies": [
            {
                "language": "en",
                "response_id": "defect.replace_now",
                "suggested": 80,
                "sent_as_is": 44,
                "sent_edited": 21,
                "ignored": 15,
            },
        ],
        "corrections": {"total": 169, "agreed": 150, "accuracy": 0.888},
    },
}
CSV = "team,ratings,stars_mean,nps\r\nbilling,70,4.51,50\r\nsupport,98,4.29,36\r\n"


def empty_report() -> dict[str, Any]:
    """The same shape with no data: every figure null, every list empty."""
    report = copy.deepcopy(REPORT)
    for block in ("conversations", "satisfaction", "wait_honesty", "etiquette"):
        for key, value in report[block].items():
            report[block][key] = [] if isinstance(value, list) else None
    report["assistant"] = {
        "situations": [],
        "replies": [],
        "corrections": {"total": None, "agreed": None, "accuracy": None},
    }
    return report


class ReportApi:
    """Answers /api/admin/reports* in one tab and records every request it got."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.requests: list[Request] = []
        self.status = 200
        self.gate: asyncio.Event | None = None

    async def install(self, page: Page) -> None:
        await page.route(re.compile(r"/api/admin/reports(\?|/|$)"), self.answer)

    async def answer(self, route: Route, request: Request) -> None:
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if urlsplit(request.url).path.endswith(".csv"):
            await route.fulfill(status=200, body=CSV, headers={"Content-Type": "text/csv; charset=utf-8"})
        elif self.status != 200:
            error = {"error": {"code": "unavailable", "message": "The reports are resting."}}
            await route.fulfill(status=self.status, json=error)
        else:
            await route.fulfill(status=200, json=self.report)

    def queries(self, csv: bool = False) -> list[dict[str, list[str]]]:
        return [
            parse_qs(urlsplit(r.url).query)
            for r in self.requests
            if urlsplit(r.url).path.endswith(".csv") == csv
        ]


async def reports_tab(
    tabs: TabFactory, desk: Server, report: dict[str, Any], viewport: ViewportSize | None = None
) -> tuple[Tab, ReportApi]:
    reports = ReportApi(report)
    tab = await admin_tab(tabs, desk, viewport)
    await reports.install(tab.page)
    await tab.find('a[href="#reports"]').click()
    return tab, reports


async def asked(reports: ReportApi, count: int, timeout_s: float = 10.0) -> dict[str, list[str]]:
    """Until the page has asked for `count` reports; the last one's query."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(reports.queries()) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(reports.queries())} report requests, expected {count}")
        await asyncio.sleep(0.05)
    assert len(reports.queries()) == count, reports.queries()
    return reports.queries()[-1]


def kpi(tab: Tab, card: str, name: str) -> Any:
    return tab.find(f'#report-{card} [data-kpi="{name}"]')


async def test_the_report_shows_its_figures_and_charts(desk: Server, tabs: TabFactory) -> None:
    tab, reports = await reports_tab(tabs, desk, REPORT)
    await expect(tab.find("#report-conversations")).to_be_visible()
    await expect(tab.find('a[href="#reports"]')).to_have_attribute("aria-current", "page")

    await expect(kpi(tab, "conversations", "total").locator(".kpi-value")).to_have_text("412")
    await expect(kpi(tab, "conversations", "abandoned")).to_contain_text("41")
    await expect(kpi(tab, "conversations", "abandoned")).to_contain_text("10 % of all")
    await expect(kpi(tab, "conversations", "first-response").locator(".kpi-value")).to_have_text("38 s")
    await expect(kpi(tab, "conversations", "first-response")).to_contain_text("p90 2 min 31 s")
    await expect(kpi(tab, "conversations", "wait")).to_contain_text("1 min 14 s")
    await expect(kpi(tab, "conversations", "handle")).to_contain_text("7 min")
    await expect(kpi(tab, "conversations", "handle")).to_contain_text("p90 21 min")
    # One bar per day, the abandoned part stacked on each; the line skips the day without a figure.
    await expect(tab.find("#chart-conversations g.day")).to_have_count(7)
    await expect(tab.find("#chart-conversations rect.bar-abandoned")).to_have_count(7)
    await expect(tab.find("#chart-first-response circle.line-dot")).to_have_count(6)
    await expect(tab.find("#chart-first-response path.line-path")).to_have_count(2)
    await expect(tab.find("#table-by-day tbody tr")).to_have_count(7)
    await expect(tab.find("#table-by-day tbody tr").nth(2)).to_contain_text("—")

    await expect(kpi(tab, "satisfaction", "nps").locator(".kpi-value")).to_have_text("+42")
    await expect(kpi(tab, "satisfaction", "stars").locator(".kpi-value")).to_have_text("4.38 / 5")
    await expect(tab.find('#nps-split [data-part="promoters"]')).to_have_text("Promoters 88 (52.4 %)")
    await expect(tab.find('#nps-split [data-part="detractors"]')).to_have_text("Detractors 26 (15.5 %)")
    await expect(tab.find("#chart-nps-split rect")).to_have_count(3)
    await expect(tab.find("#table-by-operator tbody tr").nth(1)).to_contain_text("Olga Nowak")
    await expect(tab.find("#table-by-operator tbody tr").nth(1)).to_contain_text("-4")
    # A visitor's comment is text, never markup.
    await expect(tab.find("#table-comments tbody tr").nth(1)).to_contain_text(XSS)
    assert await tab.find("#table-comments img").count() == 0

    await expect(kpi(tab, "wait-honesty", "mae").locator(".kpi-value")).to_have_text("27 s")
    await expect(kpi(tab, "wait-honesty", "coverage").locator(".kpi-value")).to_have_text("87.4 %")
    await expect(kpi(tab, "wait-honesty", "overruns")).to_contain_text("13 of 14 told a new estimate first")
    await expect(kpi(tab, "etiquette", "transfers")).to_contain_text("31 with reason and benefit")
    await expect(kpi(tab, "etiquette", "left-messages")).to_contain_text("answered in 45 min (p50)")
    await expect(kpi(tab, "assistant", "accuracy").locator(".kpi-value")).to_have_text("88.8 %")
    await expect(tab.find("#table-situations tbody tr").first).to_contain_text("Defective product")
    await expect(tab.find("#table-replies tbody tr").first).to_contain_text("English (en)")
    await expect(tab.find(".csv-link")).to_have_count(6)

    # The default is the last 7 days, for everyone.
    query = reports.queries()[0]
    assert int(query["to"][0]) - int(query["from"][0]) == 7 * 86400
    assert "team" not in query and "operator_id" not in query
    assert tab.errors == [] and tab.dialogs == []


async def test_the_filters_change_the_query(desk: Server, tabs: TabFactory) -> None:
    piotr, _ = await make_operator(desk, "Piotr Zieliński", teams=("billing",))
    await make_operator(desk, "Olga Nowak", teams=("support",))
    tab, reports = await reports_tab(tabs, desk, REPORT)
    await expect(tab.find("#report-conversations")).to_be_visible()

    await tab.find("#report-period").select_option("30")
    query = await asked(reports, 2)
    assert int(query["to"][0]) - int(query["from"][0]) == 30 * 86400

    await tab.find("#report-team").select_option("billing")
    assert (await asked(reports, 3))["team"] == ["billing"]
    # Only the team's members are offered once a team is chosen.
    await expect(tab.find("#report-operator option")).to_have_text(["All operators", "Piotr Zieliński"])
    await tab.find("#report-operator").select_option(str(piotr))
    assert (await asked(reports, 4))["operator_id"] == [str(piotr)]

    await tab.find("#report-period").select_option("custom")
    await expect(tab.find("#report-from")).to_be_visible()
    # Custom dates start as the last seven whole days, then the admin picks their own.
    await asked(reports, 5)
    await tab.find("#report-from").fill("2024-05-06")
    await asked(reports, 6)
    await tab.find("#report-to").fill("2024-05-12")
    query = await asked(reports, 7)
    start, end = await tab.page.evaluate("[new Date(2024, 4, 6) / 1000, new Date(2024, 4, 13) / 1000]")
    assert query["from"] == [str(int(start))] and query["to"] == [str(int(end))]
    assert query["team"] == ["billing"] and query["operator_id"] == [str(piotr)]

    # Dates the wrong way round send nothing and say why.
    sent = len(reports.queries())
    await tab.find("#report-from").fill("2024-05-20")
    await expect(tab.find("#report-dates-error")).to_have_text("The first day is after the last.")
    assert len(reports.queries()) == sent
    assert tab.errors == []


async def test_a_csv_download_carries_the_filters_and_the_token(
    desk: Server, tabs: TabFactory, tmp_path: Path
) -> None:
    await make_operator(desk, "Piotr Zieliński", teams=("billing",))
    tab, reports = await reports_tab(tabs, desk, REPORT)
    await tab.find("#report-team").select_option("billing")
    await asked(reports, 2)
    await expect(tab.find("#table-by-team")).to_be_visible()
    link = tab.find('.csv-link[data-table="satisfaction_by_team"]')
    href = await link.get_attribute("href")
    assert href and href.startswith("/api/admin/reports/satisfaction_by_team.csv?")

    async with tab.page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    saved = tmp_path / "by-team.csv"
    await download.save_as(saved)
    assert saved.read_bytes() == CSV.encode()
    assert re.fullmatch(
        r"satisfaction_by_team-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename
    )

    csv_requests = [r for r in reports.requests if urlsplit(r.url).path.endswith(".csv")]
    assert len(csv_requests) == 1
    request = csv_requests[0]
    assert urlsplit(request.url).path == "/api/admin/reports/satisfaction_by_team.csv"
    session = json.loads(await tab.page.evaluate("sessionStorage.getItem('chatdesk.admin')"))
    assert request.headers["authorization"] == f"Bearer {session['token']}"
    # The same period and filters as the report on the page.
    assert reports.queries(csv=True)[0] == reports.queries()[-1]
    assert reports.queries(csv=True)[0]["team"] == ["billing"]
    assert tab.errors == []


async def test_loading_error_and_empty_states(desk: Server, tabs: TabFactory) -> None:
    reports = ReportApi(empty_report())
    reports.gate = asyncio.Event()
    reports.status = 503
    tab = await admin_tab(tabs, desk)
    await reports.install(tab.page)
    await tab.find('a[href="#reports"]').click()
    await expect(tab.find("#report-loading")).to_contain_text("Loading the report")
    await expect(tab.find("#report")).to_have_attribute("aria-busy", "true")
    reports.gate.set()
    await expect(tab.find("#report-error")).to_contain_text("The reports are resting.")

    reports.status = 200
    await tab.find("#report-retry").click()
    await expect(tab.find("#conversations-empty")).to_have_text("No conversations in this period.")
    await expect(tab.find("#report")).not_to_have_attribute("aria-busy", "true")
    nulls = (
        ("conversations", "total"),
        ("conversations", "first-response"),
        ("satisfaction", "nps"),
        ("wait-honesty", "mae"),
        ("wait-honesty", "coverage"),
        ("etiquette", "transfers"),
        ("assistant", "accuracy"),
    )
    for card, name in nulls:
        await expect(kpi(tab, card, name).locator(".kpi-value")).to_have_text("—")
    await expect(kpi(tab, "conversations", "first-response")).to_contain_text("p90 —")
    assert await tab.find(".chart").count() == 0
    await expect(tab.find("#nps-split-empty")).to_be_visible()
    await expect(tab.find("#table-comments-empty")).to_have_text("No comments in this period.")
    await expect(tab.find("#table-replies-empty")).to_be_visible()
    await expect(tab.find("#wait-honesty-empty")).to_be_visible()
    # Every table still offers its (empty) CSV.
    await expect(tab.find(".csv-link")).to_have_count(6)
    assert tab.errors == [] and tab.dialogs == []


async def test_reports_screenshots(desk: Server, tabs: TabFactory) -> None:
    await make_operator(desk, "Piotr Zieliński", teams=("billing",))
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        tab, _ = await reports_tab(tabs, desk, REPORT, viewport)
        await expect(tab.find("#chart-conversations svg")).to_be_visible()
        await expect(tab.find("#chart-nps-split svg")).to_be_visible()
        # The page may not scroll sideways on a phone.
        overflow = await tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{label}: {overflow}px wider than the screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await tab.page.wait_for_timeout(300)
        await tab.page.screenshot(path=str(SCREENSHOTS / f"admin-{label}-reports.png"))
        await tab.page.screenshot(path=str(SCREENSHOTS / f"admin-{label}-reports-full.png"), full_page=True)
        assert tab.errors == []
