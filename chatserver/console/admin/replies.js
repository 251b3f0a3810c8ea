// The reply library's index (grouped by situation, with usage) and the reply editor: live
// preview, slots, versions and restore, delete.

import { clear, confirmDialog, dayTime, debounce, h, modal, replace, toast } from "/console/ui.js";
import { BASE, languageName, SITUATION_NAME, SITUATIONS, state, ui } from "./state.js";
import { call } from "./session.js";
import { clearFieldErrors, fieldBox, showFieldError } from "./forms.js";

export async function loadReplies() {
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

export function renderEditorEmpty() {
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

export function editReply(reply) {
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
