// The open chat: its head (who, segment, language, Transfer and Close), the log and the
// visitor's typing indicator.

import { confirmDialog, day, h, replace } from "/console/ui.js";
import { SEGMENTS } from "./constants.js";
import { state, ui } from "./state.js";
import { chatName, initials } from "./chats.js";
import { sendFrame } from "./socket.js";
import { renderEmpty } from "./status.js";
import { messageItem } from "./fragments.js";
import { renderComposer } from "./draft.js";
import { openTransfer } from "./transfer.js";
import { renderBanners } from "./banners.js";
import { sendBoundary } from "./boundary.js";
import { checkBackButton } from "./checkback.js";
import { isWhisper, whisperItem, withWhispers } from "./whispers.js";

export function renderChat() {
  const chat = state.chats.get(state.active);
  ui.chatEmpty.classList.toggle("hidden", Boolean(chat));
  ui.chatBody.classList.toggle("hidden", !chat);
  if (!chat) {
    renderEmpty();
    return;
  }
  renderHead(chat);
  renderBanners(chat);
  renderLog(chat);
  renderTyping();
  ui.input.value = chat.draft || "";
  renderComposer(chat);
}

export function renderHead(chat) {
  const c = chat.customer || {};
  const name = chatName(chat);
  const meta = [];
  if (c.segment) meta.push(h("span", { class: ["badge", "segment", c.segment], title: SEGMENTS[c.segment], text: `Segment ${c.segment}` }));
  if (c.type) meta.push(h("span", { class: "badge brand", title: c.type.hint, text: c.type.name }));
  if (c.anonymous) meta.push(h("span", { class: "badge", text: "Anonymous" }));
  if (c.first_contact) meta.push(h("span", { class: "badge ok", text: "First contact" }));
  const locale = chat.visitor && chat.visitor.locale;
  if (locale) meta.push(h("span", { class: "badge", title: "Visitor's language", text: locale.toUpperCase() }));
  const transferring = chat.transfer && !["returned", "cancelled", "accepted"].includes(chat.transfer.status);
  replace(ui.chatHead,
    h("span", { class: "avatar big", "aria-hidden": "true", text: initials(name) }),
    h("div", { class: "head-main" }, h("h1", { class: "head-name", id: "chat-title", text: name }),
      h("div", { class: "head-meta" }, c.email ? h("span", { class: "muted small", text: c.email }) : null, meta)),
    h("div", { class: "head-actions" },
      h("button", { class: "btn", type: "button", id: "wrap-up-btn", disabled: Boolean(chat.ended || chat.wrapUp === "asked"), title: "Ask whether there is anything else: the visitor decides when the chat is done", onclick: () => sendFrame({ type: "wrap_up", conversation_id: chat.id }) }, chat.wrapUp === "asked" ? "Asked: anything else?" : "Anything else?"),
      checkBackButton(chat),
      boundaryButton(chat),
      h("button", { class: "btn", type: "button", id: "transfer-btn", disabled: Boolean(chat.ended || transferring), title: "Transfer to a colleague or team (Alt+T)", onclick: () => openTransfer(chat) }, "Transfer"),
      h("button", { class: "btn danger", type: "button", id: "close-btn", disabled: Boolean(chat.ended), title: "Close the chat", onclick: () => closeChat(chat) }, "Close")));
}

// The hater protocol (playbook): a boundary warning, then a cool-down, then a block.
const BOUNDARY_NEXT = { undefined: "warn", warn: "cool_down", cool_down: "block", block: null };
const BOUNDARY_LABEL = { warn: "Boundary: no insults", cool_down: "Cool down", block: "Block visitor" };

function boundaryButton(chat) {
  const step = BOUNDARY_NEXT[chat.boundary];
  if (!step) return null;
  const send = () => {
    if (step === "block" && !window.confirm("Block this visitor? They cannot open a chat until an admin lifts it.")) return;
    sendBoundary(chat, step);
  };
  return h("button", { class: step === "block" ? "btn danger" : "btn", type: "button", id: "boundary-btn", disabled: Boolean(chat.ended), title: "Insults: warn, then a cool-down, then a block", onclick: send }, BOUNDARY_LABEL[step]);
}

export function renderLog(chat) {
  const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  const items = [];
  let lastDay = "";
  for (const msg of withWhispers(chat.messages, chat.whispers)) {
    const d = msg.ts ? day(msg.ts) : "";
    if (d && d !== lastDay) {
      items.push(h("li", { class: "day", text: d }));
      lastDay = d;
    }
    items.push(isWhisper(msg) ? whisperItem(msg) : messageItem(msg));
  }
  if (!items.length) items.push(h("li", { class: "day", text: "No messages yet" }));
  replace(ui.log, items);
  if (nearBottom || chat.scrollToEnd !== false) ui.log.scrollTop = ui.log.scrollHeight;
}

export function renderTyping() {
  const chat = state.chats.get(state.active);
  const on = Boolean(chat && chat.typingUntil > Date.now());
  ui.typing.classList.toggle("hidden", !on);
}

function closeChat(chat) {
  confirmDialog("Close this chat?", "Before closing, make sure the visitor has nothing else to ask. The visitor sees that the chat has ended.", "Close chat", true)
    .then((yes) => { if (yes) sendFrame({ type: "close", conversation_id: chat.id }); });
}
