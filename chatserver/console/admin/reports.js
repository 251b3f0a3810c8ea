// Reports: how the team did over a period (last 7 / 30 / 90 days or chosen dates), for one team
// or operator or everyone: conversations and response times, satisfaction, how honest the
// promised waits were, etiquette and the assistant. Every table downloads as CSV with the same
// filters; the download is fetched with the bearer token and saved from a blob URL.

import { duration, h, replace, toast } from "/console/ui.js";
import { languageName, SITUATION_NAME, state, ui } from "./state.js";
import { call } from "./session.js";
import { pageHead } from "./forms.js";
import { loadOperators } from "./operators.js";
import { chartBox, conversationsChart, lineChart, splitBar } from "./charts.js";

const DAY_S = 86400;
const INTRO = "How the team did: conversations and response times, what visitors said, how honest our promised waits were, etiquette and the assistant.";
const NONE = "—";
const PERIODS = [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"], ["custom", "Custom dates"]];

// Kept while the admin moves between pages, so the report comes back as they left it.
const filters = { period: "7", from: "", to: "", team: "", operator: "" };
let ticket = 0;

// --- formatting: every figure may be null, which shows as a dash ------------------------------

const missing = (value) => value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
const count = (value) => (missing(value) ? NONE : Number(value).toLocaleString("en-GB"));
const seconds = (value) => (missing(value) ? NONE : duration(value));
const percent = (value) => (missing(value) ? NONE : `${Math.round(value * 1000) / 10} %`);
const stars = (value) => (missing(value) ? NONE : `${Number(value).toFixed(2)} / 5`);
const nps = (value) => (missing(value) ? NONE : `${value > 0 ? "+" : ""}${Math.round(value)}`);
const tick = (value) => (value < 120 ? `${Math.round(value)} s` : `${Math.round(value / 60)} min`);
const share = (part, whole) => (missing(part) || missing(whole) || !whole ? null : part / whole);

function localDay(ts) {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function readableDay(ts) {
  return missing(ts) ? NONE : new Date(ts * 1000).toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
}

function midnight(value) {
  // "2024-05-06" → the start of that day, here, in unix seconds.
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime() / 1000 : null;
}

// --- the filters ---------------------------------------------------------------------------------

// The query for the chosen filters, or null (with the reason shown) when the dates do not make one.
function query() {
  const params = new URLSearchParams();
  if (filters.period === "custom") {
    const from = midnight(filters.from);
    const toDay = midnight(filters.to);
    if (from === null || toDay === null) {
      ui.datesError.textContent = "Choose both dates.";
      return null;
    }
    if (from > toDay) {
      ui.datesError.textContent = "The first day is after the last.";
      return null;
    }
    // The last day counts whole: the period ends at the next midnight.
    const to = midnight(localDay(toDay + DAY_S + 3600));
    params.set("from", String(from));
    params.set("to", String(to));
  } else {
    const to = Math.floor(Date.now() / 1000);
    params.set("from", String(to - Number(filters.period) * DAY_S));
    params.set("to", String(to));
  }
  ui.datesError.textContent = "";
  if (filters.team) params.set("team", filters.team);
  if (filters.operator) params.set("operator_id", filters.operator);
  return params;
}

function option(value, label, selected) {
  return h("option", { value, text: label, selected: value === selected });
}

function fillOperators() {
  const team = state.teams.find((t) => t.name === filters.team);
  const operators = team ? state.operators.filter((o) => team.members.includes(o.id)) : state.operators;
  if (filters.operator && !operators.some((o) => String(o.id) === filters.operator)) filters.operator = "";
  replace(ui.operatorSelect, option("", "All operators", filters.operator),
    operators.map((o) => option(String(o.id), o.name, filters.operator)));
}

function fillTeams() {
  if (filters.team && !state.teams.some((t) => t.name === filters.team)) filters.team = "";
  replace(ui.teamSelect, option("", "All teams", filters.team), state.teams.map((t) => option(t.name, t.name, filters.team)));
}

function filterBar() {
  const period = h("select", { id: "report-period", "aria-label": "Period" }, PERIODS.map(([value, label]) => option(value, label, filters.period)));
  const from = h("input", { type: "date", id: "report-from", value: filters.from, "aria-label": "First day" });
  const to = h("input", { type: "date", id: "report-to", value: filters.to, "aria-label": "Last day" });
  ui.datesError = h("p", { class: "field-error", id: "report-dates-error", role: "alert" });
  const custom = h("div", { class: "report-dates", id: "report-custom", hidden: filters.period !== "custom" },
    h("label", { for: "report-from" }, "From"), from, h("label", { for: "report-to" }, "to"), to);
  ui.teamSelect = h("select", { id: "report-team", "aria-label": "Team" });
  ui.operatorSelect = h("select", { id: "report-operator", "aria-label": "Operator" });
  fillTeams();
  fillOperators();
  period.addEventListener("change", () => {
    filters.period = period.value;
    custom.hidden = filters.period !== "custom";
    if (filters.period === "custom" && !filters.from && !filters.to) {
      // Start from the last seven whole days, which the admin then changes.
      const today = Math.floor(Date.now() / 1000);
      filters.to = to.value = localDay(today);
      filters.from = from.value = localDay(today - 6 * DAY_S);
    }
    load();
  });
  for (const input of [from, to]) {
    input.addEventListener("change", () => {
      filters.from = from.value;
      filters.to = to.value;
      load();
    });
  }
  ui.teamSelect.addEventListener("change", () => {
    filters.team = ui.teamSelect.value;
    fillOperators();
    load();
  });
  ui.operatorSelect.addEventListener("change", () => {
    filters.operator = ui.operatorSelect.value;
    load();
  });
  return h("div", { class: "report-filters" }, h("div", { class: "toolbar" }, period, custom, ui.teamSelect, ui.operatorSelect), ui.datesError);
}

// --- loading -------------------------------------------------------------------------------------

export async function showReports() {
  ui.report = h("div", { id: "report", class: "report" });
  replace(ui.main, pageHead("Reports", INTRO), filterBar(), ui.report);
  load();
  // The team and operator lists may have changed since the admin pages started.
  await loadOperators();
  if (ui.teamSelect && ui.teamSelect.isConnected) {
    fillTeams();
    fillOperators();
  }
}

async function load() {
  const params = query();
  if (!params) return;
  const mine = ++ticket;
  ui.report.setAttribute("aria-busy", "true");
  replace(ui.report, h("div", { class: "card empty report-state", id: "report-loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), h("strong", { text: "Loading the report…" })));
  let report;
  try {
    report = await call(`/api/admin/reports?${params}`);
  } catch (err) {
    if (mine !== ticket) return;
    ui.report.removeAttribute("aria-busy");
    replace(ui.report, h("div", { class: "card empty report-state", id: "report-error", role: "alert" },
      h("strong", { text: "The report cannot be loaded" }), h("p", { text: err.message }),
      h("button", { class: "btn", type: "button", id: "report-retry", onclick: () => load() }, "Try again")));
    return;
  }
  if (mine !== ticket) return;
  ui.report.removeAttribute("aria-busy");
  renderReport(report || {}, params);
}

// --- pieces of the report ------------------------------------------------------------------------

function kpi(id, label, value, sub) {
  return h("div", { class: "kpi", dataset: { kpi: id } },
    h("span", { class: "kpi-label", text: label }), h("strong", { class: "kpi-value", text: value }),
    sub ? h("span", { class: "kpi-sub small muted", text: sub }) : null);
}

function card(id, title, subtitle, ...body) {
  return h("section", { class: "card report-card", id },
    h("div", { class: "report-card-head" }, h("h2", { text: title }), subtitle ? h("p", { class: "small muted", text: subtitle }) : null),
    body);
}

async function downloadCsv(link, table, params) {
  if (link.getAttribute("aria-busy")) return;
  link.setAttribute("aria-busy", "true");
  link.textContent = "Downloading…";
  try {
    const response = await call(link.getAttribute("href"), { raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const from = localDay(Number(params.get("from")));
    const to = localDay(Number(params.get("to")) - 1);
    const save = h("a", { href: url, download: `${table}-${from}-${to}.csv`, class: "hidden" });
    document.body.appendChild(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (err) {
    toast(`The CSV cannot be downloaded: ${err.message}`, "error");
  } finally {
    link.removeAttribute("aria-busy");
    link.textContent = "Download CSV";
  }
}

function csvLink(table, params) {
  const link = h("a", { class: "btn small csv-link", href: `/api/admin/reports/${table}.csv?${params}`, dataset: { table } }, "Download CSV");
  link.addEventListener("click", (event) => {
    event.preventDefault();
    downloadCsv(link, table, params);
  });
  return link;
}

// A titled table with its CSV link; columns are [label, row => text, numeric?].
function dataTable(id, title, table, params, columns, rows, emptyText) {
  const head = h("div", { class: "table-head" }, h("h3", { text: title }), csvLink(table, params));
  if (!rows || !rows.length) return h("div", { class: "report-table" }, head, h("p", { class: "muted small report-empty", id: `${id}-empty`, text: emptyText }));
  return h("div", { class: "report-table" }, head,
    h("div", { class: "table-card" }, h("table", { class: "table", id },
      h("thead", {}, h("tr", {}, columns.map(([label, , numeric]) => h("th", { class: numeric ? "num" : undefined, text: label })))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([label, value, numeric], i) => h("td", {
        class: numeric ? "num" : undefined, dataset: i ? { label } : undefined,
      }, value(row)))))))));
}

function legend(items) {
  return h("ul", { class: "plain chart-legend" }, items.filter(Boolean).map(([cls, label]) => h("li", {}, h("span", { class: ["swatch", cls], "aria-hidden": "true" }), label)));
}

// --- the blocks ----------------------------------------------------------------------------------

function conversationsCard(c, params) {
  const byDay = c.by_day || [];
  const others = byDay.some((d) => (d.total || 0) > (d.served || 0) + (d.abandoned || 0));
  const charts = byDay.length
    ? [h("h3", { text: "Conversations per day" }), legend([["bar-served", "Served"], others ? ["bar-other", "Other (neither yet)"] : null, ["bar-abandoned", "Abandoned"]]),
      chartBox("chart-conversations", `Conversations per day, ${byDay.length} days`, conversationsChart(byDay)),
      h("h3", { text: "First response per day (p50)" }),
      chartBox("chart-first-response", `Median first response per day, ${byDay.length} days`, lineChart(byDay, "first_response_p50_s", seconds, tick))]
    : [];
  const empty = !c.total && !byDay.length ? h("p", { class: "empty-note", id: "conversations-empty", text: "No conversations in this period." }) : null;
  return card("report-conversations", "Conversations", "p50: half were quicker; p90: nine in ten were.",
    h("div", { class: "kpis" },
      kpi("total", "Conversations", count(c.total)),
      kpi("served", "Served", count(c.served), missing(share(c.served, c.total)) ? null : `${percent(share(c.served, c.total))} of all`),
      kpi("abandoned", "Abandoned", count(c.abandoned), missing(share(c.abandoned, c.total)) ? null : `${percent(share(c.abandoned, c.total))} of all`),
      kpi("first-response", "First response p50", seconds(c.first_response_p50_s), `p90 ${seconds(c.first_response_p90_s)}`),
      kpi("wait", "Wait p50", seconds(c.wait_p50_s), `p90 ${seconds(c.wait_p90_s)}`),
      kpi("handle", "Handle time p50", seconds(c.handle_p50_s), `p90 ${seconds(c.handle_p90_s)}`)),
    empty, charts,
    dataTable("table-by-day", "By day", "conversations_by_day", params, [
      ["Day", (d) => d.day], ["Conversations", (d) => count(d.total), true], ["Served", (d) => count(d.served), true],
      ["Abandoned", (d) => count(d.abandoned), true], ["First response p50", (d) => seconds(d.first_response_p50_s), true],
    ], byDay, "No days with conversations."));
}

function satisfactionCard(s, params) {
  const parts = [
    { key: "promoters", label: "Promoters", value: s.promoters || 0, cls: "part-promoters" },
    { key: "passives", label: "Passives", value: s.passives || 0, cls: "part-passives" },
    { key: "detractors", label: "Detractors", value: s.detractors || 0, cls: "part-detractors" },
  ];
  const rated = parts.reduce((sum, p) => sum + p.value, 0);
  const split = rated
    ? [chartBox("chart-nps-split", "Promoters, passives and detractors", splitBar(parts)),
      h("ul", { class: "plain chart-legend", id: "nps-split" }, parts.map((p) => h("li", { dataset: { part: p.key } },
        h("span", { class: ["swatch", p.cls], "aria-hidden": "true" }), `${p.label} ${count(p.value)} (${percent(p.value / rated)})`)))]
    : [h("p", { class: "muted small", id: "nps-split-empty", text: "No NPS answers in this period." })];
  const rows = [["Ratings", (r) => count(r.ratings), true], ["Stars", (r) => stars(r.stars_mean), true], ["NPS", (r) => nps(r.nps), true]];
  return card("report-satisfaction", "Satisfaction", "Stars and the 0–10 recommendation visitors gave at the end of a chat. NPS: promoters (9–10) minus detractors (0–6), in % of answers.",
    h("div", { class: "kpis" },
      kpi("ratings", "Ratings", count(s.ratings)), kpi("stars", "Stars", stars(s.stars_mean)), kpi("nps", "NPS", nps(s.nps))),
    h("h3", { text: "Promoters, passives, detractors" }), split,
    dataTable("table-by-team", "By team", "satisfaction_by_team", params, [["Team", (r) => r.team || "no team"], ...rows], s.by_team, "No ratings by team."),
    dataTable("table-by-operator", "By operator", "satisfaction_by_operator", params,
      [["Operator", (r) => r.name || `#${r.operator_id}`], ...rows], s.by_operator, "No ratings by operator."),
    dataTable("table-comments", "Comments", "comments", params, [
      ["Comment", (r) => r.comment || ""], ["Stars", (r) => (missing(r.stars) ? NONE : `${r.stars} ★`), true],
      ["NPS", (r) => count(r.nps), true], ["When", (r) => readableDay(r.created_at)], ["Chat", (r) => `#${r.conversation_id}`],
    ], s.comments, "No comments in this period."));
}

function waitHonestyCard(w) {
  const announced = missing(w.overruns) ? null : `${count(w.overruns_announced)} of ${count(w.overruns)} told a new estimate first`;
  return card("report-wait-honesty", "Wait honesty", "How honest our promised waits were: how far the promised wait was from the real one, and whether a visitor heard before a promise was overrun.",
    h("div", { class: "kpis" },
      kpi("promises", "Waits promised", count(w.promises)),
      kpi("mae", "Mean error", seconds(w.mae_s), "promised vs. real wait"),
      kpi("coverage", "Coverage", percent(w.coverage), "waits within the promise"),
      kpi("overruns", "Overruns", count(w.overruns), announced)),
    !w.promises ? h("p", { class: "muted small", id: "wait-honesty-empty", text: "No waits were promised in this period." }) : null);
}

function etiquetteCard(e) {
  return card("report-etiquette", "Etiquette", "Transfers that told the visitor why and what they gain, nudges to silent operators, holding lines and messages left while no one was free.",
    h("div", { class: "kpis" },
      kpi("transfers", "Transfers", count(e.transfers), missing(e.transfers) ? null : `${count(e.transfers_with_reason_and_benefit)} with reason and benefit`),
      kpi("nudges", "Nudges", count(e.nudges)),
      kpi("holding-lines", "Holding lines", count(e.holding_lines)),
      kpi("left-messages", "Left messages", count(e.left_messages), `answered in ${seconds(e.left_message_answer_p50_s)} (p50)`)));
}

function assistantCard(a, params) {
  const corrections = a.corrections || {};
  const situations = a.situations || [];
  const most = Math.max(1, ...situations.map((s) => s.count || 0));
  return card("report-assistant", "Assistant", "The situations it recognised, the replies it suggested and what operators did with them.",
    h("div", { class: "kpis" },
      kpi("corrections", "Corrections", count(corrections.total), missing(corrections.total) ? null : `${count(corrections.agreed)} agreed`),
      kpi("accuracy", "Accuracy", percent(corrections.accuracy), "situations operators agreed with")),
    dataTable("table-situations", "Situations", "situations", params, [
      ["Situation", (r) => SITUATION_NAME[r.situation] || r.situation], ["Chats", (r) => count(r.count), true],
      ["Share", (r) => h("span", { class: "meter", "aria-hidden": "true" }, h("span", { class: "meter-fill", style: { width: `${Math.round(((r.count || 0) / most) * 100)}%` } }))],
    ], situations, "No situations recognised in this period."),
    dataTable("table-replies", "Suggested replies", "replies", params, [
      ["Reply", (r) => r.response_id], ["Language", (r) => languageName(r.language)], ["Suggested", (r) => count(r.suggested), true],
      ["Sent as is", (r) => count(r.sent_as_is), true], ["Sent edited", (r) => count(r.sent_edited), true], ["Ignored", (r) => count(r.ignored), true],
    ], a.replies, "No replies suggested in this period."));
}

function periodLine(report, params) {
  const period = report.period || {};
  const from = missing(period.from) ? Number(params.get("from")) : period.from;
  const to = missing(period.to) ? Number(params.get("to")) : period.to;
  const f = report.filters || {};
  const who = [];
  if (f.team) who.push(`team ${f.team}`);
  if (!missing(f.operator_id)) {
    const op = state.operators.find((o) => o.id === Number(f.operator_id));
    who.push(op ? op.name : `operator #${f.operator_id}`);
  }
  return h("p", { class: "report-period muted", id: "report-period-line" },
    `${readableDay(from)} – ${readableDay(to - 1)} · ${who.length ? who.join(" · ") : "everyone"}`);
}

function renderReport(report, params) {
  replace(ui.report,
    periodLine(report, params),
    h("div", { class: "report-grid" },
      conversationsCard(report.conversations || {}, params),
      satisfactionCard(report.satisfaction || {}, params),
      waitHonestyCard(report.wait_honesty || {}),
      etiquetteCard(report.etiquette || {}),
      assistantCard(report.assistant || {}, params)));
}
