// Admin pages: the reply library (per situation and language, live preview, versions, import and
// export), operators and teams, and the hold messages. Remote text only ever goes through
// textContent or form values.

import {
  h, clear, replace, api, loadSession, saveSession, dayTime, debounce, toast, modal, confirmDialog, loginCard,
} from "/console/ui.js";

const SESSION_KEY = "chatdesk.admin";
const LIBRARY = "default";
const BASE = `/api/admin/libraries/${LIBRARY}`;
const SITUATIONS = [
  ["cannot_do", "We can't do that"], ["defect", "Defective product"], ["out_of_stock", "Out of stock"],
  ["pointless_suggestion", "Feature request"], ["dont_know", "You don't know"], ["hater", "Angry visitor"],
  ["transfer", "Transfer"], ["ending", "Ending the chat"], ["general", "General (greeting, signature…)"],
];
const SITUATION_NAME = Object.fromEntries(SITUATIONS);
const HOLD_KINDS = {
  queue: ["Waiting in line", "While the visitor waits for a first operator and an estimate exists."],
  queue_offline: ["Nobody online", "While nobody who could serve the visitor is online (no estimate)."],
  transfer: ["During a transfer", "While a colleague is being found for a transferred chat."],
};
const HOLD_SAMPLE = { "{position}": "3", "{wait}": "about 4 min", "{target}": "our billing team" };
const LANGUAGE_NAMES = { en: "English", pl: "Polish", cs: "Czech", ru: "Russian", de: "German", sk: "Slovak", uk: "Ukrainian" };

const state = {
  session: null,
  view: "replies",
  languages: [],
  language: "en",
  situation: "",
  query: "",
  replies: [],
  selected: null,
  variables: [],
  operators: [],
  teams: [],
  roles: ["operator", "admin", "supervisor"],
};
const ui = {};

function token() {
  return state.session.token;
}

function call(path, options = {}) {
  return api(path, { ...options, token: token() }).catch((err) => {
    if (err.status === 401) {
      signOut("Your session has ended. Sign in again.");
    }
    throw err;
  });
}

function languageName(code) {
  return LANGUAGE_NAMES[code] ? `${LANGUAGE_NAMES[code]} (${code})` : code;
}

// --- sign in -------------------------------------------------------------------------------

function boot() {
  const session = loadSession(SESSION_KEY) || adoptConsoleSession();
  if (session && session.token && session.operator && session.operator.role === "admin") start(session);
  else showLogin();
}

function adoptConsoleSession() {
  // An admin already signed in to the console in this tab need not sign in again.
  const consoleSession = loadSession("chatdesk.console");
  if (consoleSession && consoleSession.operator && consoleSession.operator.role === "admin") {
    const session = { token: consoleSession.token, operator: consoleSession.operator };
    saveSession(SESSION_KEY, session);
    return session;
  }
  return null;
}

function showLogin(message) {
  const app = document.getElementById("app");
  app.className = "";
  replace(app, loginCard({
    title: "Admin sign in",
    subtitle: "Reply library, operators and teams, hold messages.",
    note: "Needs an admin account.",
    onSignedIn: (data, fail) => {
      if (data.operator.role !== "admin") {
        fail("This account is not an admin. Operators work in the console.");
        return;
      }
      saveSession(SESSION_KEY, { token: data.token, operator: data.operator });
      start(loadSession(SESSION_KEY));
    },
  }));
  if (message) document.getElementById("login-error").textContent = message;
}

function signOut(message) {
  saveSession(SESSION_KEY, null);
  showLogin(message);
}

async function start(session) {
  state.session = session;
  buildLayout();
  window.addEventListener("hashchange", route);
  try {
    const [libraries, variables] = await Promise.all([call("/api/admin/libraries"), call("/api/admin/variables")]);
    state.languages = libraries.libraries[0].languages;
    state.variables = variables.variables;
    if (!state.languages.includes(state.language)) state.language = state.languages[0] || "en";
  } catch (err) {
    if (err.status === 403) {
      signOut("This account is not an admin (any more).");
      return;
    }
    toast(err.message, "error");
  }
  loadOperators();
  route();
}

// --- layout --------------------------------------------------------------------------------

function buildLayout() {
  const app = document.getElementById("app");
  app.className = "admin";
  ui.nav = {};
  const nav = h("nav", { class: "side-nav", "aria-label": "Admin sections" },
    [["replies", "Reply library", "Replies"], ["operators", "Operators", "Operators"], ["teams", "Teams", "Teams"], ["hold", "Hold messages", "Hold"]].map(([id, label, short]) => {
      const link = h("a", { href: "#" + id, class: "nav-link", dataset: { view: id } }, h("span", { class: "long", text: label }), h("span", { class: "short", text: short }));
      ui.nav[id] = link;
      return link;
    }));
  ui.main = h("main", { class: "admin-main", id: "main", tabindex: "-1" });
  const bar = h("header", { class: "appbar" },
    h("div", { class: "brand-row" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name", text: "Chatdesk" }), h("span", { class: "badge brand admin-badge", text: "Admin" })),
    h("span", { class: "spacer" }),
    h("a", { class: "btn small", href: "/console" }, "Console"),
    h("div", { class: "who" }, h("span", { text: state.session.operator.name }), h("small", { text: "admin" })),
    h("button", { class: "btn small", type: "button", onclick: () => signOut() }, "Sign out"));
  replace(app, bar, h("div", { class: "admin-shell" }, nav, ui.main));
}

function route() {
  const view = (location.hash || "#replies").slice(1);
  state.view = ["replies", "operators", "teams", "hold"].includes(view) ? view : "replies";
  for (const [id, link] of Object.entries(ui.nav)) {
    link.classList.toggle("on", id === state.view);
    if (id === state.view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  ({ replies: showReplies, operators: showOperators, teams: showTeams, hold: showHold })[state.view]();
}

function pageHead(title, description, ...actions) {
  return h("div", { class: "page-head" },
    h("div", {}, h("h1", { text: title }), description ? h("p", { class: "muted", text: description }) : null),
    h("div", { class: "page-actions" }, actions));
}

function fieldBox(id, label, control, hint) {
  return h("div", { class: "field", dataset: { field: id } },
    h("label", { for: control.id || undefined }, label), control,
    hint ? h("p", { class: "hint small muted", text: hint }) : null,
    h("p", { class: "field-error", id: `${control.id}-error`, role: "alert" }));
}

function showFieldError(root, field, message) {
  const box = root.querySelector(`.field[data-field="${CSS.escape(field || "")}"]`);
  if (!box) return false;
  box.querySelector(".field-error").textContent = message;
  const control = box.querySelector("input, select, textarea");
  if (control) control.classList.add("invalid");
  return true;
}

function clearFieldErrors(root) {
  root.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
  root.querySelectorAll(".invalid").forEach((node) => node.classList.remove("invalid"));
}

// --- reply library ---------------------------------------------------------------------------

function showReplies() {
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

async function loadReplies() {
  const params = new URLSearchParams();
  if (state.query) params.set("q", state.query);
  if (state.situation) params.set("situation", state.situation);
  replace(ui.replyList, h("li", { class: "muted pad", text: "Loading…" }));
  try {
    const data = await call(`${BASE}/${encodeURIComponent(state.language)}/responses?${params}`);
    state.replies = data.responses;
  } catch (err) {
    replace(ui.replyList, h("li", { class: "form-error pad", text: err.message }));
    return;
  }
  renderReplyList();
}

function usageLine(usage) {
  if (!usage) return "";
  const sent = (usage.sent_as_is || 0) + (usage.sent_edited || 0);
  return usage.suggested ? `used ${sent} of ${usage.suggested} suggested` : sent ? `used ${sent}×` : "not used yet";
}

function renderReplyList() {
  if (!state.replies.length) {
    replace(ui.replyList, h("li", { class: "muted pad", text: state.query || state.situation ? "No reply matches." : "No replies in this language yet. Create one." }));
    return;
  }
  const groups = new Map();
  for (const reply of state.replies) {
    if (!groups.has(reply.situation)) groups.set(reply.situation, []);
    groups.get(reply.situation).push(reply);
  }
  const items = [];
  for (const [situation, replies] of groups) {
    items.push(h("li", { class: "group-head", text: SITUATION_NAME[situation] || situation }));
    for (const reply of replies) {
      const selected = state.selected && state.selected.id === reply.id;
      items.push(h("li", {}, h("button", {
        type: "button", class: ["index-item", selected && "on"], "aria-current": selected ? "true" : "false", dataset: { id: reply.id },
        onclick: () => editReply(reply),
      },
      h("span", { class: "row" }, h("strong", { class: "grow", text: reply.title }), reply.shortcut ? h("span", { class: "badge", text: reply.shortcut }) : null),
      h("span", { class: "small muted ellipsis", text: reply.text }),
      h("span", { class: "row small muted" }, h("span", { class: "mono", text: reply.id }), h("span", { class: "grow" }), h("span", { text: usageLine(reply.usage) })))));
    }
  }
  replace(ui.replyList, items);
}

function renderEditorEmpty() {
  replace(ui.editor, h("div", { class: "empty" }, h("strong", { text: "Choose a reply" }), h("p", { text: "or create a new one. The preview fills it the way an operator will see it." })));
}

function operatorName(id) {
  const op = state.operators.find((o) => o.id === id);
  return op ? op.name : id ? `operator ${id}` : "the seed";
}

function variablesIn(text) {
  const names = [];
  const re = /\{([a-z_]+(?:\.[a-z_]+)*)\}/g;
  let m;
  while ((m = re.exec(text))) if (!names.includes(m[1])) names.push(m[1]);
  return names;
}

function editReply(reply) {
  state.selected = reply;
  renderReplyList();
  const isNew = !reply;
  const data = reply || { id: "", situation: state.situation || "general", title: "", shortcut: "", text: "", slots: [], tags: [] };
  const form = h("form", { class: "reply-form", novalidate: true });
  const id = h("input", { type: "text", id: "f-id", value: data.id, disabled: !isNew, placeholder: "situation.what_it_does", autocomplete: "off" });
  const situation = h("select", { id: "f-situation" }, SITUATIONS.map(([value, name]) => h("option", { value, text: name, selected: value === data.situation })));
  const title = h("input", { type: "text", id: "f-title", value: data.title, maxlength: "120" });
  const shortcut = h("input", { type: "text", id: "f-shortcut", value: data.shortcut || "", placeholder: "/defect1", autocomplete: "off" });
  const text = h("textarea", { id: "f-text", rows: "5", value: data.text, spellcheck: "true" });
  const tags = h("input", { type: "text", id: "f-tags", value: (data.tags || []).join(", "), placeholder: "comma-separated; 'opening' marks the greeting" });
  const slotBox = h("div", { class: "slot-picks", id: "f-slots" });
  const palette = h("div", { class: "palette", "aria-label": "Insert a variable" });
  const preview = h("div", { class: "preview-text", id: "preview", "aria-live": "polite" });
  const previewMeta = h("div", { class: "preview-meta small", id: "preview-meta" });
  const mode = h("select", { id: "preview-mode", "aria-label": "Preview with" },
    h("option", { value: "examples", text: "Example values" }), h("option", { value: "nothing", text: "Nothing known yet" }));
  const formError = h("div", { class: "form-error", role: "alert", id: "form-error" });
  let slots = [...(data.slots || [])];

  const drawSlots = () => {
    const used = variablesIn(text.value);
    slots = slots.filter((s) => used.includes(s));
    if (!used.length) {
      replace(slotBox, h("span", { class: "small muted", text: "Variables used in the text appear here; tick those the operator must fill before sending." }));
      return;
    }
    replace(slotBox, used.map((name) => {
      const box = h("input", { type: "checkbox", id: `slot-${name}`, checked: slots.includes(name) });
      box.addEventListener("change", () => {
        if (box.checked && !slots.includes(name)) slots.push(name);
        if (!box.checked) slots = slots.filter((s) => s !== name);
        refresh();
      });
      const known = state.variables.find((v) => v.name === name);
      return h("label", { class: ["slot-pick", !known && "unknown"], for: `slot-${name}`, title: known ? known.description : "Not a known variable" }, box, h("span", { class: "mono", text: name }));
    }));
  };
  replace(palette, state.variables.map((v) => h("button", {
    type: "button", class: "var-chip", title: `${v.description}${v.example ? " — e.g. " + v.example : ""}`,
    onclick: () => {
      const at = text.selectionStart || text.value.length;
      const token = `{${v.name}}`;
      text.setRangeText(token, at, text.selectionEnd || at, "end");
      text.focus();
      refresh();
    },
  }, v.name)));

  let previewSeq = 0;
  const runPreview = debounce(async () => {
    const seq = ++previewSeq;
    const body = { text: text.value, slots };
    if (mode.value === "nothing") body.context = {};
    if (!text.value.trim()) {
      replace(preview, h("span", { class: "muted", text: "The filled text appears here as you type." }));
      clear(previewMeta);
      return;
    }
    try {
      const result = await call(`${BASE}/${encodeURIComponent(state.language)}/preview`, { method: "POST", body });
      if (seq !== previewSeq) return;
      replace(preview, result.segments.map((s) => (s.kind === "slot" ? h("mark", { class: "slot", title: "The operator fills this", text: s.value }) : s.value)));
      const notes = [];
      if (result.missing.length) notes.push(h("span", { class: "badge warn", text: `To fill: ${result.missing.join(", ")}` }));
      else notes.push(h("span", { class: "badge ok", text: "Complete" }));
      if (result.unfilled.length && mode.value === "examples") notes.push(h("span", { class: "badge bad", text: `Blocked as is: ${result.unfilled.join(", ")}` }));
      replace(previewMeta, notes);
      const textError = form.querySelector('.field[data-field="text"] .field-error');
      const slotsError = form.querySelector('.field[data-field="slots"] .field-error');
      textError.textContent = "";
      slotsError.textContent = "";
      text.classList.remove("invalid");
      if (result.problem) {
        const target = result.problem.field === "slots" ? slotsError : textError;
        target.textContent = `${result.problem.code}: ${result.problem.message}`;
        if (result.problem.field !== "slots") text.classList.add("invalid");
      }
    } catch (err) {
      if (seq === previewSeq) replace(previewMeta, h("span", { class: "form-error", text: err.message }));
    }
  }, 250);
  const refresh = () => {
    drawSlots();
    runPreview();
  };
  text.addEventListener("input", refresh);
  mode.addEventListener("change", runPreview);

  const save = h("button", { class: "btn primary", type: "submit", id: "save-reply" }, isNew ? "Create reply" : "Save");
  const actions = [save];
  if (!isNew) {
    actions.push(h("button", { class: "btn", type: "button", id: "versions-btn", onclick: () => showVersions(reply) }, "Versions"));
    actions.push(h("button", { class: "btn danger", type: "button", id: "delete-reply", onclick: () => deleteReply(reply) }, "Delete"));
  }
  const meta = reply
    ? h("p", { class: "small muted", text: `Version ${reply.version} · ${reply.updated_at ? "changed " + dayTime(reply.updated_at) + " by " + operatorName(reply.updated_by) : ""}` })
    : h("p", { class: "small muted", text: `New reply in ${languageName(state.language)}` });

  form.append(
    h("div", { class: "editor-head" }, h("h2", { text: isNew ? "New reply" : reply.title }), meta),
    h("div", { class: "grid2" },
      fieldBox("id", "Id", id, isNew ? "Letters, digits, . _ -; the same id in another language marks a translation." : null),
      fieldBox("situation", "Situation", situation)),
    h("div", { class: "grid2" },
      fieldBox("title", "Title (what operators see in the list)", title),
      fieldBox("shortcut", "Shortcut (starts with /, may be empty)", shortcut)),
    fieldBox("text", "Text", text, "Variables in braces, e.g. {customer.first_name}. No blanks such as ______ or [Feature X]."),
    h("details", { class: "palette-box" }, h("summary", { text: `Insert a variable (${state.variables.length})` }), palette),
    h("div", { class: "preview-box" },
      h("div", { class: "row" }, h("h3", { class: "grow", text: "Live preview" }), mode),
      preview, previewMeta),
    fieldBox("slots", "Must be filled by the operator (slots)", slotBox),
    fieldBox("tags", "Tags", tags),
    formError,
    h("div", { class: "form-actions" }, actions));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    formError.textContent = "";
    const body = {
      id: isNew ? id.value.trim() : reply.id,
      situation: situation.value,
      title: title.value,
      shortcut: shortcut.value.trim(),
      text: text.value,
      slots,
      tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    };
    if (!isNew) body.version = reply.version;
    save.disabled = true;
    try {
      const path = `${BASE}/${encodeURIComponent(state.language)}/responses`;
      const saved = isNew
        ? await call(path, { method: "POST", body })
        : await call(`${path}/${encodeURIComponent(reply.id)}`, { method: "PUT", body });
      toast(isNew ? "Reply created." : "Saved. The next suggestion uses it.", "ok");
      await loadReplies();
      editReply(state.replies.find((r) => r.id === saved.id) || saved);
    } catch (err) {
      save.disabled = false;
      if (err.code === "version_conflict") {
        replace(formError, "Someone else changed this reply meanwhile. ", h("button", { class: "btn small", type: "button", onclick: () => reloadReply(reply.id) }, "Load their version"));
        return;
      }
      const field = err.field || (err.code === "duplicate_shortcut" ? "shortcut" : err.code === "duplicate_id" ? "id" : null);
      if (!showFieldError(form, field, `${err.code}: ${err.message}`)) formError.textContent = `${err.code}: ${err.message}`;
    }
  });
  replace(ui.editor, form);
  refresh();
  if (isNew) id.focus();
}

async function reloadReply(replyId) {
  await loadReplies();
  const reply = state.replies.find((r) => r.id === replyId);
  if (reply) editReply(reply);
  else renderEditorEmpty();
}

async function deleteReply(reply) {
  const yes = await confirmDialog("Delete this reply?", `“${reply.title}” stops being suggested. Its versions are kept, so it can be restored.`, "Delete", true);
  if (!yes) return;
  try {
    await call(`${BASE}/${encodeURIComponent(state.language)}/responses/${encodeURIComponent(reply.id)}?version=${reply.version}`, { method: "DELETE" });
    toast("Reply deleted.", "ok");
    state.selected = null;
    renderEditorEmpty();
    loadReplies();
  } catch (err) {
    toast(`${err.code}: ${err.message}`, "error", 6000);
  }
}

async function showVersions(reply) {
  const list = h("ol", { class: "versions", id: "versions" }, h("li", { class: "muted", text: "Loading…" }));
  const { close } = modal({ title: `Versions of ${reply.id}`, body: list, className: "wide" });
  try {
    const data = await call(`${BASE}/${encodeURIComponent(state.language)}/responses/${encodeURIComponent(reply.id)}/versions`);
    const versions = [...data.versions].reverse();
    replace(list, versions.map((v) => h("li", { class: "version" },
      h("div", { class: "row" }, h("strong", { text: `Version ${v.version}` }), h("span", { class: "badge", text: v.action }),
        h("span", { class: "small muted grow", text: `${dayTime(v.ts)} · ${operatorName(v.operator_id)}` }),
        v.data && v.version !== reply.version ? h("button", {
          class: "btn small", type: "button", onclick: async () => {
            try {
              await call(`${BASE}/${encodeURIComponent(state.language)}/responses/${encodeURIComponent(reply.id)}/versions/${v.version}/restore`, { method: "POST" });
              toast(`Version ${v.version} restored as a new version.`, "ok");
              close();
              reloadReply(reply.id);
            } catch (err) {
              toast(`${err.code}: ${err.message}`, "error");
            }
          },
        }, "Restore") : h("span", { class: "small muted", text: v.version === reply.version ? "current" : "" })),
      v.data ? h("div", { class: "version-text" }, h("div", { class: "small muted", text: `${v.data.title}${v.data.shortcut ? " · " + v.data.shortcut : ""}` }), h("div", { text: v.data.text })) : h("div", { class: "small muted", text: "Deleted." }))));
  } catch (err) {
    replace(list, h("li", { class: "form-error", text: err.message }));
  }
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

// --- operators -------------------------------------------------------------------------------

async function loadOperators() {
  try {
    const [ops, teams] = await Promise.all([call("/api/admin/operators"), call("/api/admin/teams")]);
    state.operators = ops.operators;
    state.roles = ops.roles;
    state.teams = teams.teams;
  } catch (err) {
    toast(err.message, "error");
  }
}

async function showOperators() {
  ui.opTable = h("tbody", {});
  replace(ui.main,
    pageHead("Operators", "Accounts, roles, how many chats each takes at once, and their teams.",
      h("button", { class: "btn primary", type: "button", id: "new-operator", onclick: () => editOperator(null) }, "New operator")),
    h("div", { class: "card table-card" }, h("table", { class: "table", id: "operators" },
      h("thead", {}, h("tr", {}, ["Name", "Role", "Teams", "Chats", "Now", "Account", ""].map((t) => h("th", { text: t })))),
      ui.opTable)));
  await loadOperators();
  renderOperators();
}

function renderOperators() {
  if (!ui.opTable) return;
  replace(ui.opTable, state.operators.map((op) => h("tr", { class: op.active ? "" : "inactive", dataset: { id: String(op.id) } },
    h("td", {}, h("div", { class: "cell-name", text: op.name }), h("div", { class: "small muted", text: `${op.email}${op.title ? " · " + op.title : ""}` })),
    h("td", { dataset: { label: "Role" } }, h("span", { class: ["badge", op.role === "admin" ? "brand" : op.role === "supervisor" ? "warn" : ""], text: op.role })),
    h("td", { dataset: { label: "Teams" } }, op.teams.length ? op.teams.map((t) => h("span", { class: "badge team", text: t })) : h("span", { class: "muted small", text: "no team" })),
    h("td", { class: "num", dataset: { label: "Chats" }, text: `${op.presence.chats} / ${op.capacity}` }),
    h("td", { dataset: { label: "Now" } }, h("span", { class: "presence" }, h("span", { class: ["dot", op.presence.status] }), op.presence.status)),
    h("td", { dataset: { label: "Account" } }, op.active ? h("span", { class: "badge ok", text: "active" }) : h("span", { class: "badge bad", text: "off" })),
    h("td", { class: "actions" }, h("button", { class: "btn small", type: "button", onclick: () => editOperator(op) }, "Edit")))));
}

function editOperator(op) {
  const isNew = !op;
  const data = op || { email: "", name: "", title: "", role: "operator", capacity: 3, teams: [], active: true };
  const form = h("form", { class: "op-form", novalidate: true, id: "operator-form" });
  const email = h("input", { type: "email", id: "o-email", value: data.email, autocomplete: "off" });
  const name = h("input", { type: "text", id: "o-name", value: data.name });
  const title = h("input", { type: "text", id: "o-title", value: data.title, placeholder: "e.g. Customer care (signs replies)" });
  const role = h("select", { id: "o-role" }, state.roles.map((r) => h("option", { value: r, text: r, selected: r === data.role })));
  const capacity = h("input", { type: "number", id: "o-capacity", min: "0", max: "50", value: String(data.capacity) });
  const password = h("input", { type: "password", id: "o-password", autocomplete: "new-password", placeholder: isNew ? "at least 8 characters" : "leave empty to keep" });
  const chosen = new Set(data.teams);
  const teamBox = h("div", { class: "team-picks", id: "o-teams" });
  const newTeam = h("input", { type: "text", id: "o-new-team", placeholder: "New team name", "aria-label": "New team name" });
  const drawTeams = () => {
    const names = [...new Set([...state.teams.map((t) => t.name), ...chosen])].sort();
    replace(teamBox, names.length ? names.map((t) => {
      const box = h("input", { type: "checkbox", id: `team-${t}`, checked: chosen.has(t) });
      box.addEventListener("change", () => (box.checked ? chosen.add(t) : chosen.delete(t)));
      return h("label", { class: "team-pick", for: `team-${t}` }, box, t);
    }) : h("span", { class: "small muted", text: "No teams yet." }));
  };
  drawTeams();
  newTeam.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      if (newTeam.value.trim()) chosen.add(newTeam.value.trim());
      newTeam.value = "";
      drawTeams();
    }
  });
  const active = h("input", { type: "checkbox", id: "o-active", checked: data.active });
  const formError = h("div", { class: "form-error", role: "alert" });
  form.append(
    h("div", { class: "grid2" }, fieldBox("name", "Name", name), fieldBox("email", "Email (sign-in)", email)),
    h("div", { class: "grid2" }, fieldBox("title", "Title", title), fieldBox("role", "Role", role, "Admins manage this page; supervisors see every customer.")),
    h("div", { class: "grid2" }, fieldBox("capacity", "Chats at once", capacity), fieldBox("password", isNew ? "Password" : "New password", password)),
    fieldBox("teams", "Teams", teamBox, "Add a team: type its name and press Enter."), newTeam);
  if (!isNew) {
    form.append(h("div", { class: "field", dataset: { field: "active" } },
      h("label", { class: "check", for: "o-active" }, active, " Account active (turning it off signs them out and requeues their chats)"),
      h("p", { class: "field-error", role: "alert" })));
  }
  form.append(formError);
  const save = h("button", { class: "btn primary", type: "button", id: "o-save" }, isNew ? "Create" : "Save");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const { close } = modal({ title: isNew ? "New operator" : `Edit ${data.name}`, body: form, actions: [cancel, save], className: "wide" });
  cancel.addEventListener("click", close);
  const submit = async () => {
    clearFieldErrors(form);
    formError.textContent = "";
    if (newTeam.value.trim()) chosen.add(newTeam.value.trim());
    const body = { name: name.value, email: email.value, title: title.value, role: role.value, capacity: Number(capacity.value), teams: [...chosen] };
    if (password.value) body.password = password.value;
    if (!isNew) body.active = active.checked;
    if (isNew && !password.value) {
      showFieldError(form, "password", "A new account needs a password.");
      return;
    }
    save.disabled = true;
    try {
      if (isNew) await call("/api/admin/operators", { method: "POST", body });
      else await call(`/api/admin/operators/${op.id}`, { method: "PATCH", body });
      toast(isNew ? "Operator created." : "Saved.", "ok");
      close();
      if (state.view === "operators") showOperators();
      else loadOperators();
    } catch (err) {
      save.disabled = false;
      if (!showFieldError(form, err.field, err.message)) formError.textContent = err.message;
    }
  };
  save.addEventListener("click", submit);
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  name.focus();
}

// --- teams -----------------------------------------------------------------------------------

async function showTeams() {
  const nameInput = h("input", { type: "text", id: "team-name", placeholder: "e.g. billing", maxlength: "100" });
  const error = h("p", { class: "field-error", role: "alert", id: "team-name-error" });
  const add = h("button", { class: "btn primary", type: "submit" }, "Add team");
  const form = h("form", { class: "team-form card", novalidate: true },
    h("div", { class: "field", dataset: { field: "name" } }, h("label", { for: "team-name" }, "New team"), h("div", { class: "row" }, nameInput, add), error));
  ui.teamList = h("div", { class: "team-grid", id: "teams" });
  replace(ui.main,
    pageHead("Teams", "A chat for a team goes to its members; chats without a team go to anyone online. Operators transfer chats to teams."),
    form, ui.teamList);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    try {
      await call("/api/admin/teams", { method: "POST", body: { name: nameInput.value } });
      nameInput.value = "";
      await loadOperators();
      renderTeams();
    } catch (err) {
      if (!showFieldError(form, err.field || "name", err.message)) toast(err.message, "error");
    }
  });
  await loadOperators();
  renderTeams();
}

function renderTeams() {
  if (!state.teams.length) {
    replace(ui.teamList, h("div", { class: "empty card" }, h("strong", { text: "No teams yet" }), h("p", { text: "Add a team to route and transfer chats to a group of operators." })));
    return;
  }
  replace(ui.teamList, state.teams.map((team) => {
    const members = team.members.map((id) => state.operators.find((o) => o.id === id)).filter(Boolean);
    return h("div", { class: "card team-card", dataset: { team: team.name } },
      h("div", { class: "row" }, h("h2", { class: "grow", text: team.name }), h("span", { class: "badge", text: `${team.active_members} active` })),
      members.length ? h("ul", { class: "plain members" }, members.map((m) => h("li", { class: "row" }, h("span", { class: ["dot", m.presence.status] }), h("span", { class: "grow", text: m.name }), h("span", { class: "small muted", text: m.active ? m.presence.status : "off" }))))
        : h("p", { class: "small muted", text: "No members." }),
      h("div", { class: "row end" }, h("button", {
        class: "btn small danger", type: "button", disabled: members.length > 0, title: members.length ? "Move its members to another team first" : "Delete this team",
        onclick: async () => {
          try {
            await call(`/api/admin/teams/${team.id}`, { method: "DELETE" });
            await loadOperators();
            renderTeams();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      }, "Delete")));
  }));
}

// --- hold messages ---------------------------------------------------------------------------

function fitHeight(area) {
  area.style.height = "auto";
  area.style.height = `${area.scrollHeight + 2}px`;
}

async function showHold() {
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

boot();
