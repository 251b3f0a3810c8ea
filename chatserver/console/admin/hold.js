// Hold messages: the lines a visitor reads while waiting, per kind and language, with a
// preview that fills in sample values.

import { confirmDialog, h, replace, toast } from "/console/ui.js";
import { LANGUAGE_NAMES, state, ui } from "./state.js";
import { call } from "./session.js";
import { pageHead } from "./forms.js";

const HOLD_KINDS = {
  queue: ["Waiting in line", "While the visitor waits for a first operator and an estimate exists."],
  queue_offline: ["Nobody online", "While nobody who could serve the visitor is online (no estimate)."],
  transfer: ["During a transfer", "While a colleague is being found for a transferred chat."],
};
const HOLD_SAMPLE = { "{position}": "3", "{wait}": "about 4 min", "{target}": "our billing team" };

function fitHeight(area) {
  area.style.height = "auto";
  area.style.height = `${area.scrollHeight + 2}px`;
}

export async function showHold() {
  replace(ui.main, pageHead("Hold messages", "Wait-fillers the visitor reads while waiting: in line, when nobody is online, and during a transfer. Lines rotate; a language without its own lines uses English."),
    h("p", { class: "muted", text: "Loading…" }));
  let data;
  try {
    data = await call("/api/admin/hold-messages");
  } catch (err) {
    replace(ui.main, pageHead("Hold messages"), h("div", { class: "empty card" }, h("strong", { text: "Hold messages cannot be edited here" }),
      h("p", { text: err.status === 404 ? "This server has no hold-message endpoint." : err.message })));
    return;
  }
  renderHold(data.library, data.placeholders);
}

function renderHold(library, placeholders) {
  const languages = [...new Set(["en", ...Object.values(library).flatMap((byLang) => Object.keys(byLang))])];
  const draft = JSON.parse(JSON.stringify(library));
  const error = h("div", { class: "form-error", role: "alert", id: "hold-error" });
  const save = h("button", { class: "btn primary", type: "button", id: "hold-save" }, "Save all");
  const reset = h("button", { class: "btn danger", type: "button", id: "hold-reset" }, "Reset to the shipped lines");
  let language = state.holdLanguage && languages.includes(state.holdLanguage) ? state.holdLanguage : "en";
  const tabs = h("div", { class: "lang-tabs", role: "tablist", "aria-label": "Language" });
  const body = h("div", { class: "hold-kinds" });
  const drawTabs = () => replace(tabs, languages.map((code) => h("button", {
    type: "button", role: "tab", class: ["lang-tab", code === language && "on"], "aria-selected": String(code === language),
    onclick: () => { language = code; state.holdLanguage = code; drawTabs(); drawKinds(); },
  }, LANGUAGE_NAMES[code] || code, LANGUAGE_NAMES[code] ? h("span", { class: "lang-code", text: ` (${code})` }) : null)));
  const sample = (line) => Object.entries(HOLD_SAMPLE).reduce((text, [key, value]) => text.split(key).join(value), line);
  const drawKinds = () => {
    requestAnimationFrame(() => body.querySelectorAll("textarea").forEach(fitHeight));
    replace(body, Object.keys(HOLD_KINDS).map((kind) => {
      const lines = draft[kind][language] || [];
      const list = h("ol", { class: "hold-lines" });
      lines.forEach((line, index) => {
        const area = h("textarea", { rows: "2", value: line, id: `hold-${kind}-${language}-${index}`, "aria-label": `${HOLD_KINDS[kind][0]} line ${index + 1}`, maxlength: "500" });
        const shown = h("div", { class: "hold-sample small", text: sample(line) });
        area.addEventListener("input", () => {
          draft[kind][language][index] = area.value;
          shown.textContent = sample(area.value);
          fitHeight(area);
        });
        list.append(h("li", { class: "hold-line", dataset: { kind, language, line: String(index + 1) } },
          h("div", { class: "grow" }, area, shown),
          h("button", { class: "icon-btn", type: "button", title: "Remove this line", "aria-label": "Remove this line", onclick: () => { draft[kind][language].splice(index, 1); if (!draft[kind][language].length && language !== "en") delete draft[kind][language]; drawKinds(); } }, "✕")));
      });
      const usesEnglish = !draft[kind][language];
      return h("section", { class: "card hold-kind", dataset: { kind } },
        h("div", { class: "row" }, h("h2", { class: "grow", text: HOLD_KINDS[kind][0] }),
          h("span", { class: "small muted", text: "May use " }), (placeholders[kind] || []).map((p) => h("code", { class: "ph", text: p }))),
        h("p", { class: "small muted", text: HOLD_KINDS[kind][1] }),
        usesEnglish ? h("p", { class: "small muted", text: "No lines in this language: the English ones are used." }) : list,
        h("button", { class: "btn small", type: "button", onclick: () => { (draft[kind][language] = draft[kind][language] || []).push(""); drawKinds(); const areas = body.querySelectorAll(`.hold-kind[data-kind="${kind}"] textarea`); if (areas.length) areas[areas.length - 1].focus(); } }, "Add a line"));
    }));
  };
  drawTabs();
  drawKinds();
  requestAnimationFrame(() => body.querySelectorAll("textarea").forEach(fitHeight));
  save.addEventListener("click", async () => {
    error.textContent = "";
    body.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    try {
      const result = await call("/api/admin/hold-messages", { method: "PUT", body: draft });
      toast("Hold messages saved.", "ok");
      renderHold(result.library, placeholders);
    } catch (err) {
      error.textContent = err.message;
      const m = /'([a-z_]+)\.([A-Za-z-]+)' line (\d+)/.exec(err.message || "");
      if (m) {
        if (m[2] !== language) { language = m[2]; drawTabs(); drawKinds(); error.textContent = err.message; }
        const area = document.getElementById(`hold-${m[1]}-${m[2]}-${Number(m[3]) - 1}`);
        if (area) {
          area.classList.add("invalid");
          area.focus();
        }
      }
    }
  });
  reset.addEventListener("click", async () => {
    if (!(await confirmDialog("Reset the hold messages?", "Every line goes back to the shipped text, in every language.", "Reset", true))) return;
    try {
      const result = await call("/api/admin/hold-messages", { method: "DELETE" });
      toast("Hold messages reset.", "ok");
      renderHold(result.library, placeholders);
    } catch (err) {
      error.textContent = err.message;
    }
  });
  replace(ui.main,
    pageHead("Hold messages", "Wait-fillers the visitor reads while waiting: in line, when nobody is online, and during a transfer. Lines rotate; a language without its own lines uses English.", reset, save),
    h("p", { class: "small muted", text: `Preview values: position ${HOLD_SAMPLE["{position}"]}, wait “${HOLD_SAMPLE["{wait}"]}”, target “${HOLD_SAMPLE["{target}"]}”.` }),
    tabs, error, body);
}
