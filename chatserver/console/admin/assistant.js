// The assistant's learning: what the operators taught it (replies picked, situations corrected),
// the accuracy before and after the last retraining, and a button to retrain now.

import { h, replace, toast } from "/console/ui.js";
import { ui } from "./state.js";
import { call } from "./session.js";
import { pageHead } from "./forms.js";

const INTRO = "Each reply an operator picks and each situation they correct teaches the assistant. Retraining builds a new situation model from the shipped examples and this feedback, and every server starts using it.";

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 1000) / 10} %`;
}

export async function showAssistant() {
  replace(ui.main, pageHead("Assistant", INTRO), h("p", { class: "muted", text: "Loading…" }));
  let report;
  try {
    report = await call("/api/admin/assistant/report");
  } catch (err) {
    replace(ui.main, pageHead("Assistant", INTRO), h("div", { class: "empty card" }, h("p", { text: err.message })));
    return;
  }
  renderAssistant(report);
}

function row(label, value) {
  return h("tr", {}, h("th", { scope: "row", text: label }), h("td", { text: String(value) }));
}

function renderAssistant(report) {
  const fb = report.feedback;
  const last = report.last_retrain;
  const button = h("button", { class: "btn primary", type: "button", id: "assistant-retrain" }, "Retrain now");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Retraining…";
    try {
      const done = await call("/api/admin/assistant/retrain", { method: "POST" });
      toast(`Model ${done.id} in use: accuracy ${percent(done.accuracy_before)} → ${percent(done.accuracy_after)}`, "ok");
      await showAssistant();
    } catch (err) {
      toast(err.message, "error");
      button.disabled = false;
      button.textContent = "Retrain now";
    }
  });
  const counts = h("table", { class: "table", id: "assistant-feedback" }, h("tbody", {},
    row("Feedback in all", fb.total), row("Replies picked", fb.picked), row("Situations corrected", fb.corrected),
    row("Messages labelled", fb.labelled),
    row("Model in use", report.model.in_use === "shipped" ? "the shipped one" : `retrained #${report.model.in_use}`)));
  const lastCard = last
    ? h("table", { class: "table", id: "assistant-last" }, h("tbody", {},
      row("Retrained", new Date(last.created_at * 1000).toLocaleString()),
      row("Accuracy before", percent(last.accuracy_before)), row("Accuracy after", percent(last.accuracy_after)),
      row("Held out", last.holdout ? `${last.holdout.items} messages (${last.holdout.method})` : "–"),
      row("Training items", last.train_items ?? "–")))
    : h("p", { class: "muted", text: "Not retrained yet: the shipped model is in use." });
  const confusion = report.confusion.length
    ? h("table", { class: "table", id: "assistant-confusion" },
      h("thead", {}, h("tr", {}, h("th", { text: "Recognised" }), h("th", { text: "Operators said" }), h("th", { text: "Times" }))),
      h("tbody", {}, report.confusion.map((c) => h("tr", {}, h("td", { text: c.recognized }), h("td", { text: c.corrected }), h("td", { text: String(c.count) })))))
    : h("p", { class: "muted", text: "No corrections yet." });
  replace(ui.main, pageHead("Assistant", INTRO),
    h("section", { class: "card pad" }, h("h2", { text: "Feedback" }), counts, h("p", {}, button)),
    h("section", { class: "card pad" }, h("h2", { text: "Last retraining" }), lastCard),
    h("section", { class: "card pad" }, h("h2", { text: "Corrections" }), confusion));
}
