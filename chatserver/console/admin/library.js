// The reply library page: language and situation filters, search, adding a language, and
// import and export of the whole library as JSON.

import { api, clear, debounce, h, modal, replace, toast } from "/console/ui.js";
import { BASE, languageName, LIBRARY, SITUATIONS, state, ui } from "./state.js";
import { call, token } from "./session.js";
import { pageHead } from "./forms.js";
import { editReply, loadReplies, renderEditorEmpty } from "./replies.js";

export function showReplies() {
  const language = h("select", { id: "lib-language", "aria-label": "Language" },
    state.languages.map((code) => h("option", { value: code, text: languageName(code), selected: code === state.language })),
    h("option", { value: "__new", text: "Add a language…" }));
  const situation = h("select", { id: "lib-situation", "aria-label": "Situation" },
    h("option", { value: "", text: "All situations" }),
    SITUATIONS.map(([id, name]) => h("option", { value: id, text: name, selected: id === state.situation })));
  const search = h("input", { type: "search", id: "lib-query", placeholder: "Search: words or /shortcut", "aria-label": "Search replies", value: state.query });
  const fileInput = h("input", { type: "file", id: "import-file", accept: "application/json,.json", class: "sr-only" });
  ui.replyList = h("ul", { class: "reply-index", id: "reply-index", "aria-label": "Replies" });
  ui.editor = h("section", { class: "editor card", id: "editor", "aria-label": "Reply editor" });
  replace(ui.main,
    pageHead("Reply library", "What operators are offered in each hard situation and language. Edits reach the next suggestion at once.",
      h("button", { class: "btn", type: "button", id: "import-btn", onclick: () => fileInput.click() }, "Import…"), fileInput,
      h("button", { class: "btn", type: "button", id: "export-btn", onclick: exportLibrary }, "Export"),
      h("button", { class: "btn primary", type: "button", id: "new-reply", onclick: () => editReply(null) }, "New reply")),
    h("div", { class: "toolbar" }, language, situation, search),
    h("div", { class: "split" }, h("div", { class: "index-pane card" }, ui.replyList), ui.editor));
  language.addEventListener("change", () => {
    if (language.value === "__new") {
      addLanguage(language);
      return;
    }
    state.language = language.value;
    state.selected = null;
    loadReplies();
  });
  situation.addEventListener("change", () => { state.situation = situation.value; loadReplies(); });
  search.addEventListener("input", debounce(() => { state.query = search.value.trim(); loadReplies(); }, 200));
  fileInput.addEventListener("change", () => {
    if (fileInput.files && fileInput.files[0]) importLibrary(fileInput.files[0]);
    fileInput.value = "";
  });
  renderEditorEmpty();
  loadReplies();
}

function addLanguage(select) {
  const code = h("input", { type: "text", id: "new-language", placeholder: "e.g. de or pt-BR", maxlength: "12" });
  const error = h("p", { class: "field-error", role: "alert" });
  const ok = h("button", { class: "btn primary", type: "button" }, "Add");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const { close } = modal({
    title: "Add a language",
    body: h("div", {}, h("p", { class: "small muted", text: "A language gets replies by creating them. Situations it does not cover fall back to English." }),
      h("label", { for: "new-language" }, "Language code"), code, error),
    actions: [cancel, ok],
    onClose: () => { select.value = state.language; },
  });
  cancel.addEventListener("click", close);
  ok.addEventListener("click", () => {
    const value = code.value.trim();
    if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(value)) {
      error.textContent = "Use a code such as de, sk or pt-BR.";
      return;
    }
    if (!state.languages.includes(value)) state.languages.push(value);
    state.language = value;
    state.selected = null;
    close();
    showReplies();
  });
  code.focus();
}

async function exportLibrary() {
  try {
    const response = await api(`${BASE}/export`, { token: token(), raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `${LIBRARY}-library.json`, class: "hidden" });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (err) {
    toast(err.message, "error");
  }
}

async function importLibrary(file) {
  let text;
  try {
    text = await file.text();
  } catch (err) {
    toast("The file cannot be read.", "error");
    return;
  }
  const mode = h("select", { id: "import-mode" },
    h("option", { value: "merge", text: "Merge: add new replies, update changed ones, keep the rest" }),
    h("option", { value: "replace", text: "Replace: make the library exactly this file" }));
  const result = h("div", { class: "import-result", id: "import-result", role: "status" });
  const go = h("button", { class: "btn primary", type: "button", id: "import-go" }, "Import");
  const cancel = h("button", { class: "btn", type: "button" }, "Close");
  const { close } = modal({
    title: `Import ${file.name}`,
    body: h("div", {}, h("p", { class: "small muted", text: "The whole file is checked first; if anything is wrong nothing changes." }),
      h("label", { for: "import-mode" }, "How"), mode, result),
    actions: [cancel, go],
  });
  cancel.addEventListener("click", close);
  go.addEventListener("click", async () => {
    go.disabled = true;
    clear(result);
    try {
      const summary = await call(`${BASE}/import?mode=${mode.value}`, { method: "POST", body: text });
      replace(result, h("p", { class: "ok-text", text: `Imported (${summary.mode}): ${summary.created} new, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.deleted} deleted.` }));
      loadReplies();
      const libraries = await call("/api/admin/libraries");
      state.languages = libraries.libraries[0].languages;
    } catch (err) {
      const where = [err.entry !== undefined && err.entry !== null ? `entry ${err.entry}` : null, err.field ? `field ${err.field}` : null].filter(Boolean).join(", ");
      replace(result, h("p", { class: "form-error", text: `${err.code}${where ? " (" + where + ")" : ""}: ${err.message}` }));
    } finally {
      go.disabled = false;
    }
  });
}
