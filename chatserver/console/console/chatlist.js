// "My chats": the list, its unread counts (also in the tab badges and the page title), and
// choosing, stepping through and removing chats.

import { clock, duration, h, replace } from "/console/ui.js";
import { PHONE, SEGMENTS } from "./constants.js";
import { hooks, saveRead, state, ui } from "./state.js";
import { chatName, initials, isViewing, markRead, setTab, unread } from "./chats.js";
import { setStatus } from "./status.js";
import { hidePopup } from "./popup.js";

export function selectChat(cid, { focus = true } = {}) {
  const previous = state.chats.get(state.active);
  if (previous && ui.input) previous.draft = ui.input.value;
  state.active = cid;
  hidePopup();
  const chat = state.chats.get(cid);
  if (PHONE.matches && focus) setTab("chat");
  hooks.renderAll();
  if (chat) {
    if (isViewing(chat)) markRead(chat);
    if (focus && !chat.ended) ui.input.focus();
  }
}

export function moveSelection(step) {
  const ids = state.order.filter((id) => state.chats.has(id));
  if (!ids.length) return;
  const index = ids.indexOf(state.active);
  const next = ids[(index + step + ids.length) % ids.length];
  selectChat(next);
}

export function dismissChat(cid) {
  state.chats.delete(cid);
  state.order = state.order.filter((id) => id !== cid);
  delete state.read[cid];
  saveRead();
  if (state.active === cid) {
    const next = state.order.find((id) => state.chats.has(id) && !state.chats.get(id).ended) || state.order.find((id) => state.chats.has(id));
    state.active = next === undefined ? null : next;
  }
  hooks.renderAll();
}

export function renderTitle() {
  let total = state.offers.size;
  for (const chat of state.chats.values()) if (!chat.ended) total += unread(chat);
  document.title = total ? `(${total}) Chatdesk · Console` : "Chatdesk · Console";
  renderTabCounts();
}

export function renderTabCounts() {
  if (!ui.tabs) return;
  let listCount = state.offers.size;
  for (const chat of state.chats.values()) if (!chat.ended && chat.id !== state.active) listCount += unread(chat);
  const active = state.chats.get(state.active);
  const counts = {
    list: listCount,
    chat: active && !active.ended ? unread(active) : 0,
    customer: 0,
    replies: active && active.suggestions ? active.suggestions.items.length : 0,
  };
  for (const [id, button] of Object.entries(ui.tabs)) {
    const badge = button.querySelector(".count");
    badge.textContent = String(counts[id]);
    badge.classList.toggle("hidden", !counts[id]);
    badge.classList.toggle("soft", id === "replies");
  }
}

export function renderList() {
  const ids = state.order.filter((id) => state.chats.has(id));
  const open = ids.filter((id) => !state.chats.get(id).ended).length;
  ui.chatCount.textContent = state.me && state.me.capacity !== undefined ? `${open} of ${state.me.capacity}` : String(open);
  if (!ids.length) {
    replace(ui.chatList, h("li", { class: "list-empty" }, state.status === "online" ? "No chats yet. New chats appear here." : [
      h("span", { text: `You're ${state.status}. ` }),
      h("button", { class: "btn small primary go-online", type: "button", id: "go-online-list", onclick: () => setStatus("online") }, "Go online")]));
    renderTitle();
    return;
  }
  replace(ui.chatList, ids.map((id) => chatItem(state.chats.get(id))));
}

function chatItem(chat) {
  const name = chatName(chat);
  const last = [...chat.messages].reverse().find((m) => m.sender !== "system") || chat.messages[chat.messages.length - 1];
  const count = chat.ended ? 0 : unread(chat);
  let preview = last ? (last.sender === "operator" ? "You: " : "") + last.text : "No messages yet";
  let previewClass = "preview";
  if (chat.typingUntil > Date.now()) {
    preview = "typing…";
    previewClass = "preview typing-text";
  }
  const flags = [];
  if (chat.ended) flags.push(h("span", { class: "badge", text: { closed: "Closed", released: "Left you", transferred: "Transferred" }[chat.ended] }));
  if (chat.nudge && !chat.ended) flags.push(h("span", { class: "badge bad", title: "The visitor is waiting for your reply", text: `⏱ ${duration(chat.nudge.waited_s)}` }));
  if (chat.transfer && !chat.ended && !["returned", "cancelled"].includes(chat.transfer.status)) flags.push(h("span", { class: "badge warn", text: "Transferring" }));
  if (chat.leftMessage && !chat.ended) flags.push(h("span", { class: "badge brand", text: "Left a message" }));
  if (chat.checkBack && !chat.ended) flags.push(h("span", { class: ["badge", chat.checkBack.reminded ? "bad" : "warn"], text: `Answer by ${clock(chat.checkBack.due_at)}` }));
  const segment = chat.customer && chat.customer.segment;
  const button = h("button", {
    type: "button", class: "chat-item-btn", "aria-current": chat.id === state.active ? "true" : "false",
    onclick: () => selectChat(chat.id),
  },
  h("span", { class: "avatar", "aria-hidden": "true", text: initials(name) }),
  h("span", { class: "item-main" },
    h("span", { class: "item-top" }, h("span", { class: "item-name", text: name }),
      segment ? h("span", { class: ["badge", "segment", segment], title: SEGMENTS[segment], text: segment }) : null,
      h("span", { class: "item-time", text: last && last.ts ? clock(last.ts) : "" })),
    h("span", { class: "item-bottom" }, h("span", { class: previewClass, text: preview }),
      count ? h("span", { class: "count", "aria-label": `${count} unread`, text: String(count) }) : null),
    flags.length ? h("span", { class: "item-flags" }, flags) : null));
  const li = h("li", { class: ["chat-item", chat.id === state.active && "active", chat.ended && "ended", count && "unread"], dataset: { cid: String(chat.id) } }, button);
  if (chat.ended) {
    li.appendChild(h("button", { class: "icon-btn dismiss", type: "button", "aria-label": `Remove ${name} from the list`, title: "Remove from the list", onclick: () => dismissChat(chat.id) }, "✕"));
  }
  return li;
}
