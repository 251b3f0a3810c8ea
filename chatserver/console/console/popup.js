// The "/" popup of saved replies under the reply box, and putting a chosen reply (from the
// popup or the suggestions panel) into the box with its first blank selected.

import { debounce, h, replace } from "/console/ui.js";
import { PHONE, SITUATIONS } from "./constants.js";
import { state, ui } from "./state.js";
import { setTab } from "./chats.js";
import { sendFrame } from "./socket.js";
import { slotText } from "./fragments.js";
import { renderComposer, selectMarker } from "./draft.js";

export function insertReply(text, { replaceFrom = null, append = false } = {}) {
  const chat = state.chats.get(state.active);
  if (!chat || chat.ended) return;
  const current = ui.input.value;
  let next;
  if (replaceFrom !== null) {
    next = current.slice(0, replaceFrom) + text + current.slice(ui.input.selectionEnd);
  } else if (append && current.trim()) {
    next = current.replace(/\s*$/, " ") + text;
  } else {
    next = text;
  }
  ui.input.value = next;
  chat.draft = next;
  chat.sendError = null;
  hidePopup();
  renderComposer(chat);
  if (PHONE.matches) setTab("chat");
  ui.input.focus();
  if (!selectMarker(0)) ui.input.setSelectionRange(next.length, next.length);
}

function slashToken() {
  const caret = ui.input.selectionStart;
  if (caret !== ui.input.selectionEnd) return null;
  const before = ui.input.value.slice(0, caret);
  const m = /(^|\s)(\/[^\s/]*)$/.exec(before);
  return m ? { query: m[2], start: caret - m[2].length } : null;
}

const searchPopup = debounce((query) => {
  const chat = state.chats.get(state.active);
  state.search.popup = query;
  if (!sendFrame({ type: "library_search", query, conversation_id: chat ? chat.id : undefined })) hidePopup();
}, 120);

export function updatePopupFromCaret() {
  const token = slashToken();
  if (!token) {
    hidePopup();
    return;
  }
  state.popup = { ...(state.popup || {}), start: token.start, query: token.query, items: (state.popup && state.popup.items) || [], index: 0 };
  showPopup(true);
  searchPopup(token.query);
}

export function showPopup(loading) {
  ui.popup.classList.remove("hidden");
  ui.input.setAttribute("aria-expanded", "true");
  const p = state.popup;
  if (!p.items.length) {
    replace(ui.popup, h("div", { class: "pop-empty muted small", text: loading ? "Searching saved replies…" : `No saved reply starts with ${p.query}` }));
    return;
  }
  replace(ui.popup,
    h("div", { class: "pop-head small muted", text: "Saved replies · ↑↓ choose · Enter insert · Esc close" }),
    p.items.map((item, index) => h("button", {
      type: "button", role: "option", class: ["pop-item", index === p.index && "on"], "aria-selected": String(index === p.index),
      onmousedown: (event) => event.preventDefault(), onclick: () => choosePopup(index),
    },
    h("span", { class: "pop-title" }, h("strong", { text: item.title || item.response_id }), item.shortcut ? h("span", { class: "badge", text: item.shortcut }) : null,
      h("span", { class: "badge", text: (SITUATIONS[item.situation] || [item.situation])[0] })),
    h("span", { class: "pop-text" }, slotText(item.text)))));
}

export function movePopup(step) {
  const p = state.popup;
  if (!p || !p.items.length) return;
  p.index = (p.index + step + p.items.length) % p.items.length;
  showPopup(false);
  const on = ui.popup.querySelector(".pop-item.on");
  if (on) on.scrollIntoView({ block: "nearest" });
}

export function choosePopup(index) {
  const p = state.popup;
  if (!p || !p.items[index]) return;
  insertReply(p.items[index].text, { replaceFrom: p.start });
}

export function hidePopup() {
  if (!ui.popup) return;
  ui.popup.classList.add("hidden");
  ui.input.setAttribute("aria-expanded", "false");
  state.popup = null;
  searchPopup.cancel();
}
