// One chat as the console keeps it, and what has been read: a chat counts as read only while
// the operator actually sees it (tab visible, and on a phone the chat pane open).

import { PHONE } from "./constants.js";
import { hooks, saveRead, state, ui } from "./state.js";

export function newChat(cid) {
  return {
    id: cid,
    visitor: null,
    customer: null,
    messages: [],
    bySeq: new Map(),
    draft: "",
    typingUntil: 0,
    suggestions: null,
    ended: null,
    transfer: null,
    nudge: null,
    leftMessage: false,
    leftEmail: null,
    checkBack: null,
    lastTs: Date.now() / 1000,
  };
}

export function bySeq(a, b) {
  const x = a.seq === undefined || a.seq === null ? Infinity : a.seq;
  const y = b.seq === undefined || b.seq === null ? Infinity : b.seq;
  return x - y;
}

export function touchOrder(cid) {
  state.order = [cid, ...state.order.filter((id) => id !== cid)];
}

export function isViewing(chat) {
  return chat.id === state.active && !document.hidden && (!PHONE.matches || state.tab === "chat");
}

function lastSeq(chat) {
  let seq = 0;
  for (const m of chat.messages) if (typeof m.seq === "number" && m.seq > seq) seq = m.seq;
  return seq;
}

export function unread(chat) {
  const read = state.read[chat.id] || 0;
  return chat.messages.filter((m) => m.sender === "visitor" && m.seq > read).length;
}

export function markRead(chat) {
  if (!chat) return;
  const seq = lastSeq(chat);
  if ((state.read[chat.id] || 0) < seq) {
    state.read[chat.id] = seq;
    saveRead();
    hooks.renderList();
    hooks.renderTitle();
  }
}

export function chatName(chat) {
  const c = chat.customer;
  if (c && c.name) return c.name;
  const locale = chat.visitor && chat.visitor.locale ? ` (${chat.visitor.locale})` : "";
  return `Visitor #${chat.id}${locale}`;
}

export function initials(name) {
  const parts = name.replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function setTab(tab) {
  state.tab = tab;
  document.body.dataset.tab = tab;
  for (const [id, button] of Object.entries(ui.tabs || {})) button.setAttribute("aria-selected", String(id === tab));
  if (tab === "chat" && state.active) markRead(state.chats.get(state.active));
}
