// "I don't know yet" (playbook: dont_know): promise an answer by a time (check_back), the list of
// answers this operator owes (check-backs and left messages), the reminder before one is due, and
// the answer itself, which is the operator's next message in the chat (docs/protocol.md).

import { clock, h, modal, replace, toast } from "/console/ui.js";
import { hooks, state, ui } from "./state.js";
import { chatName } from "./chats.js";
import { sendFrame } from "./socket.js";
import { notify } from "./notifications.js";

const HOUR = 3600;

// Seconds from now until the next `hh:mm` (today, or tomorrow once it has passed).
function secondsUntil(hhmm, from = new Date()) {
  const [hh, mm] = hhmm.split(":").map(Number);
  const at = new Date(from);
  at.setHours(hh, mm, 0, 0);
  if (at <= from) at.setDate(at.getDate() + 1);
  return Math.round((at - from) / 1000);
}

// The choices offered: the playbook asks for a time frame the operator can keep.
function choices() {
  return [
    ["15", "In 15 min", 15 * 60],
    ["60", "In 1 hour", HOUR],
    ["tomorrow", "Tomorrow, 10:00", secondsUntil("10:00", tomorrowMorning())],
  ];
}

function tomorrowMorning() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(0, 0, 0, 0);
  return new Date(d.getTime() - 1000);
}

export function openCheckBack(chat) {
  if (!chat || chat.ended) return;
  let chosen = 60 * 60;
  const options = choices().map(([id, label, seconds]) => {
    const input = h("input", { type: "radio", name: "check-back-when", id: `check-back-${id}`, value: String(seconds), checked: id === "60" });
    input.addEventListener("change", () => { chosen = seconds; at.value = ""; });
    return h("label", { class: "choice", for: `check-back-${id}` }, input, h("span", { text: label }));
  });
  const at = h("input", { type: "time", id: "check-back-at", "aria-label": "Or at a time of your choice" });
  at.addEventListener("input", () => {
    if (!at.value) return;
    chosen = secondsUntil(at.value);
    for (const o of options) o.querySelector("input").checked = false;
  });
  const words = h("textarea", { id: "check-back-text", rows: "2", maxlength: "1000", placeholder: "Optional: your own words first, e.g. “Good question — let me check with the warehouse.”" });
  const submit = h("button", { class: "btn primary", type: "button", id: "check-back-send" }, "Promise the answer");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const body = h("div", { class: "check-back-form" },
    h("p", { class: "small muted", text: "Don't guess. The visitor is told, in their language, that you will find out and answer here by then; you are reminded before the time. Your next message in this chat is the answer (mailed too if they left an address)." }),
    h("fieldset", { class: "choices" }, h("legend", { text: "When will you answer?" }), options,
      h("label", { class: "choice", for: "check-back-at" }, h("span", { text: "At" }), at)),
    h("label", { for: "check-back-text" }, "Your words (optional)"), words);
  const { close } = modal({ title: `I'll find out · ${chatName(chat)}`, body, actions: [cancel, submit] });
  cancel.addEventListener("click", close);
  submit.addEventListener("click", () => {
    const frame = { type: "check_back", conversation_id: chat.id, in_s: Math.max(60, chosen) };
    const text = words.value.trim();
    if (text) frame.text = text;
    if (sendFrame(frame)) close();
    else toast("Not connected: try again in a moment.", "error");
  });
  submit.focus();
}

// The head button; it stands out when the assistant heard "you don't know".
export function checkBackButton(chat) {
  const dontKnow = chat.suggestions && chat.suggestions.situation === "dont_know";
  const promised = Boolean(chat.checkBack);
  return h("button", {
    class: ["btn", dontKnow && !promised && "primary"], type: "button", id: "check-back-btn",
    disabled: Boolean(chat.ended), onclick: () => openCheckBack(chat),
    title: promised ? `Answer promised by ${clock(chat.checkBack.due_at)}; promise another time` : "Don't guess: promise an answer by a time, and be reminded",
  }, promised ? `Promised by ${clock(chat.checkBack.due_at)}` : "I'll find out");
}

// --- frames ---------------------------------------------------------------------------------

export function onCheckBack(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  // A briefing after a reload says how long is left (in_s) from the server's now; the reminder
  // is due already when remind_at is not after that now.
  const serverNow = frame.due_at - frame.in_s;
  const reminded = Boolean(chat.checkBack && chat.checkBack.due_at === frame.due_at && chat.checkBack.reminded);
  chat.checkBack = { due_at: frame.due_at, remind_at: frame.remind_at, reminded: reminded || (frame.remind_at < serverNow) };
  hooks.renderAll();
}

export function onCheckBackDue(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.checkBack = { ...(chat.checkBack || { due_at: frame.due_at }), reminded: true };
  const text = `You promised ${chatName(chat)} an answer by ${clock(frame.due_at)}.`;
  toast(text, "warn", 8000);
  notify("Answer due soon", text);
  hooks.renderAll();
}

export function onAnswered(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  const mailed = chat.leftEmail ? ` and mailed to ${chat.leftEmail}` : "";
  if (frame.what === "check_back") chat.checkBack = null;
  else chat.leftMessage = false;
  toast(`Answer sent to ${chatName(chat)}${mailed}.`, "ok");
  hooks.renderAll();
}

export function onMessageLeft(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.leftMessage = true;
  if (typeof frame.email === "string") chat.leftEmail = frame.email;
  hooks.renderAll();
}

// --- what the operator owes -----------------------------------------------------------------

export function owedBanners(chat) {
  if (chat.ended) return [];
  const items = [];
  const mail = chat.leftEmail ? ` It is also mailed to ${chat.leftEmail}.` : "";
  const cb = chat.checkBack;
  if (cb) {
    items.push(h("div", { class: ["banner", cb.reminded ? "bad-banner" : "warn-banner"], id: "check-back-banner", role: cb.reminded ? "alert" : null },
      h("strong", { text: cb.reminded ? `Due at ${clock(cb.due_at)}: answer now. ` : `You promised an answer by ${clock(cb.due_at)}. ` }),
      h("span", { text: `Your next message here is the answer.${mail}` })));
  }
  if (chat.leftMessage) {
    items.push(h("div", { class: "banner info-banner", id: "left-message-banner" },
      h("span", { text: `The visitor left a message instead of waiting: answer here; they will see it when they come back.${mail}` })));
  }
  return items;
}

export function owesAnswer(chat) {
  return !chat.ended && Boolean(chat.checkBack || chat.leftMessage);
}

export function renderOwed() {
  if (!ui.owedList) return;
  const owed = [...state.chats.values()].filter(owesAnswer)
    .sort((a, b) => (a.checkBack ? a.checkBack.due_at : Infinity) - (b.checkBack ? b.checkBack.due_at : Infinity));
  ui.owedCount.textContent = owed.length ? String(owed.length) : "";
  if (ui.send) {
    const active = state.chats.get(state.active);
    ui.send.textContent = active && owesAnswer(active) ? "Send answer" : "Send";
  }
  if (!owed.length) {
    replace(ui.owedList, h("li", { class: "list-empty" }, "No answers owed."));
    return;
  }
  replace(ui.owedList, owed.map((chat) => {
    const cb = chat.checkBack;
    const what = cb ? `answer by ${clock(cb.due_at)}` : "left a message";
    return h("li", { class: ["owed-item", cb && cb.reminded && "due"], dataset: { cid: String(chat.id) } },
      h("button", { type: "button", class: "owed-btn", onclick: () => hooks.selectChat(chat.id) },
        h("span", { class: "owed-name", text: chatName(chat) }),
        h("span", { class: "owed-what small", text: what }),
        chat.leftEmail ? h("span", { class: "owed-mail small muted", text: chat.leftEmail }) : null));
  }));
}
