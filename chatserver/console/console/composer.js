// Typing in the reply box: Enter sends, Tab walks the blanks, the popup keys, and the typing
// indicator sent to the visitor.

import { toast } from "/console/ui.js";
import { TYPING_IDLE_MS, TYPING_SEND_MS } from "./constants.js";
import { state, ui } from "./state.js";
import { touchOrder } from "./chats.js";
import { sendFrame } from "./socket.js";
import { markers, nextMarker, renderComposer } from "./draft.js";
import { choosePopup, hidePopup, movePopup, updatePopupFromCaret } from "./popup.js";
import { renderList } from "./chatlist.js";
import { renderLog } from "./chatview.js";

let typingSentAt = 0;
let typingIdle = null;

export function onComposerInput() {
  const chat = state.chats.get(state.active);
  if (!chat) return;
  chat.draft = ui.input.value;
  if (chat.sendError && chat.sendError.code !== "unfilled_slot") chat.sendError = null;
  if (chat.sendError && !markers(ui.input.value).length) chat.sendError = null;
  renderComposer(chat);
  const now = Date.now();
  if (ui.input.value && now - typingSentAt > TYPING_SEND_MS) {
    typingSentAt = now;
    sendFrame({ type: "typing", conversation_id: chat.id, on: true });
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(() => stopTyping(chat.id), TYPING_IDLE_MS);
  updatePopupFromCaret();
}

function stopTyping(cid) {
  if (typingSentAt) {
    typingSentAt = 0;
    const chat = state.chats.get(cid);
    if (chat && !chat.ended) sendFrame({ type: "typing", conversation_id: cid, on: false });
  }
}

export function onComposerKey(event) {
  if (!ui.popup.classList.contains("hidden")) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      movePopup(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if ((event.key === "Enter" || event.key === "Tab") && state.popup && state.popup.items.length) {
      event.preventDefault();
      choosePopup(state.popup.index);
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      hidePopup();
      return;
    }
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendDraft();
    return;
  }
  if (event.key === "Tab" && !event.altKey && !event.ctrlKey && markers(ui.input.value).length) {
    if (nextMarker(event.shiftKey)) event.preventDefault();
  }
}

function newClientId() {
  if (window.crypto && crypto.randomUUID) return "op-" + crypto.randomUUID();
  return "op-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
}

export function sendDraft() {
  const chat = state.chats.get(state.active);
  if (!chat || chat.ended) return;
  const text = ui.input.value;
  if (!text.trim()) return;
  const clientId = newClientId();
  const frame = { type: "message", conversation_id: chat.id, client_id: clientId, text };
  if (!sendFrame(frame)) {
    toast("Not connected: the message was not sent. It stays in the box.", "error");
    return;
  }
  state.pending.set(clientId, chat.id);
  chat.messages.push({ client_id: clientId, text, sender: "operator", ts: Date.now() / 1000, status: "pending", author: { name: state.me && state.me.name } });
  chat.sendError = null;
  chat.draft = "";
  ui.input.value = "";
  clearTimeout(typingIdle);
  stopTyping(chat.id);
  hidePopup();
  touchOrder(chat.id);
  renderLog(chat);
  renderComposer(chat);
  renderList();
}
