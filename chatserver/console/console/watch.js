// Watching a live chat as a supervisor: a read-only transcript that follows the chat live, the
// whispers to its operator (never sent to the visitor), "Take over" under the transfer etiquette,
// and the end of the chat. Nobody in the chat is told that it is watched (docs/protocol.md).

import { day, h, modal, replace, toast } from "/console/ui.js";
import { SITUATIONS } from "./constants.js";
import { state, ui } from "./state.js";
import { bySeq, setTab } from "./chats.js";
import { sendFrame } from "./socket.js";
import { messageItem } from "./fragments.js";
import { isWhisper, keepWhisper, whisperItem, withWhispers } from "./whispers.js";
import { liveChat, renderLive, sup } from "./live.js";

let whisperCount = 0;

export function startWatching(c) {
  const cid = c.conversation_id;
  if (sup.watch && sup.watch.cid === cid && !sup.watch.ended) {
    showWatch();
    return;
  }
  if (sup.watch && !sup.watch.ended) sendFrame({ type: "unwatch", conversation_id: sup.watch.cid });
  sup.watch = { cid, operatorId: c.operator ? c.operator.id : null, state: c.state, messages: [], bySeq: new Map(), whispers: [], ended: false };
  if (!sendFrame({ type: "watch", conversation_id: cid })) toast("Not connected: the chat will not follow live until the console reconnects.", "error");
  showWatch();
}

// Back to the operator's own chats (the server stops sending this chat unless we hold it now).
export function stopWatching() {
  if (!sup.watch) return;
  if (!sup.watch.ended) sendFrame({ type: "unwatch", conversation_id: sup.watch.cid });
  sup.watch = null;
  if (ui.chatPane) ui.chatPane.classList.remove("watching");
  renderLive();
}

function buildWatch() {
  if (ui.watchView) return;
  ui.watchHead = h("div", { class: "chat-head watch-head" });
  ui.watchEnded = h("div", { class: "banners watch-banners" });
  ui.watchLog = h("ol", { class: "log watch-log", id: "watch-log", "aria-live": "polite", "aria-label": "The watched conversation" });
  ui.whisperInput = h("textarea", { id: "whisper-input", rows: "2", maxlength: "4000", "aria-label": "Whisper to the operator", autocomplete: "off" });
  ui.whisperSend = h("button", { class: "btn primary", type: "button", id: "whisper-send", onclick: sendWhisper }, "Whisper");
  ui.whisperInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      sendWhisper();
    }
  });
  const composer = h("div", { class: "composer whisper-composer" },
    h("p", { class: "small whisper-note", id: "whisper-note" }),
    h("div", { class: "composer-box" }, ui.whisperInput),
    h("div", { class: "composer-foot" }, h("span", { class: "hint small muted", text: "Enter whispers · the visitor never sees whispers" }), h("span", { class: "spacer" }), ui.whisperSend));
  ui.watchView = h("section", { class: "watch-view", id: "watch-view", "aria-label": "Watching a chat" }, ui.watchHead, ui.watchEnded, ui.watchLog, composer);
  ui.chatPane.append(ui.watchView);
  // Choosing one of our own chats leaves the watch view.
  if (ui.chatList) ui.chatList.addEventListener("click", () => stopWatching(), true);
}

function showWatch() {
  buildWatch();
  ui.chatPane.classList.add("watching");
  if (state.tab !== "chat") setTab("chat");
  renderWatch();
  renderLive();
}

function operatorName(w) {
  const live = liveChat(w.cid);
  if (live && live.operator && live.operator.id === w.operatorId) return live.operator.name;
  if (w.operatorId === null || w.operatorId === undefined) return null;
  return state.me && w.operatorId === state.me.id ? state.me.name : `operator #${w.operatorId}`;
}

export function renderWatch() {
  const w = sup.watch;
  if (!w || !ui.watchView) return;
  const who = operatorName(w);
  const live = liveChat(w.cid);
  const mine = state.me && w.operatorId === state.me.id;
  replace(ui.watchHead,
    h("div", { class: "head-main" },
      h("h1", { class: "head-name", id: "watch-title", text: `Watching Visitor #${w.cid}` }),
      h("div", { class: "head-meta" },
        h("span", { class: "badge warn", id: "watch-silent", title: "Neither the visitor nor the operator is told", text: "Silent: only you see this view" }),
        h("span", { class: "muted small", id: "watch-operator", text: w.ended ? "ended" : who ? `with ${who}` : "waiting for an operator" }),
        live && live.situation ? h("span", { class: "badge brand", title: "The situation of the visitor's last message", text: (SITUATIONS[live.situation] || [live.situation])[0] }) : null)),
    h("div", { class: "head-actions" },
      h("button", { class: "btn", type: "button", id: "take-over-btn", disabled: Boolean(w.ended || !who || mine), title: "Take the chat yourself: the visitor is told why and what they gain", onclick: openTakeOver }, "Take over"),
      h("button", { class: "btn", type: "button", id: "unwatch-btn", onclick: stopWatching }, "Stop watching")));
  replace(ui.watchEnded, w.ended ? h("div", { class: "banner muted-banner", id: "watch-ended", role: "status", text: "This chat has ended." }) : null);
  renderWatchLog();
  const note = document.getElementById("whisper-note");
  if (note) note.textContent = w.ended ? "The chat has ended: nothing more can be whispered." : who ? `Whispers go to ${who} only, marked as whispers. The visitor never sees them.` : "Nobody holds this chat yet: whispers go to the operator who holds it.";
  ui.whisperInput.disabled = Boolean(w.ended || !who);
  ui.whisperSend.disabled = Boolean(w.ended || !who);
  ui.whisperInput.placeholder = who ? `Whisper to ${who}…` : "Nobody to whisper to yet";
}

function renderWatchLog() {
  const w = sup.watch;
  const items = [];
  let lastDay = "";
  for (const item of withWhispers(w.messages, w.whispers)) {
    const d = item.ts ? day(item.ts) : "";
    if (d && d !== lastDay) {
      items.push(h("li", { class: "day", text: d }));
      lastDay = d;
    }
    items.push(isWhisper(item) ? whisperItem(item) : messageItem(item));
  }
  if (!items.length) items.push(h("li", { class: "day", text: "No messages yet" }));
  replace(ui.watchLog, items);
  ui.watchLog.scrollTop = ui.watchLog.scrollHeight;
}

function sendWhisper() {
  const w = sup.watch;
  const text = ui.whisperInput.value.trim();
  if (!w || w.ended || !text) return;
  whisperCount += 1;
  if (sendFrame({ type: "whisper", conversation_id: w.cid, text, client_id: `w-${Date.now().toString(36)}-${whisperCount}` })) ui.whisperInput.value = "";
  else toast("Not connected.", "error");
}

// --- frames about the watched chat -------------------------------------------------------

export function onWatchFrame(frame) {
  const w = sup.watch;
  if (!w || frame.conversation_id !== w.cid) return;
  switch (frame.type) {
    case "watch":
      w.operatorId = frame.operator_id;
      w.state = frame.state;
      renderWatch();
      break;
    case "message":
      if (w.bySeq.has(frame.seq)) return;
      w.bySeq.set(frame.seq, frame);
      w.messages.push(frame);
      w.messages.sort(bySeq);
      renderWatchLog();
      break;
    case "whisper":
      if (keepWhisper(w, frame)) renderWatchLog();
      break;
    case "closed":
      w.ended = true;
      renderWatch();
      break;
    default:
      break;
  }
}

// --- taking over -------------------------------------------------------------------------

function openTakeOver() {
  const w = sup.watch;
  if (!w || w.ended) return;
  const who = operatorName(w) || "the operator";
  const reason = h("textarea", { id: "takeover-reason", rows: "2", maxlength: "500", placeholder: "e.g. I can approve the refund myself" });
  const benefit = h("textarea", { id: "takeover-benefit", rows: "2", maxlength: "500", placeholder: "e.g. The refund is made today, in this chat" });
  const reasonError = h("p", { class: "field-error", id: "takeover-reason-error" });
  const benefitError = h("p", { class: "field-error", id: "takeover-benefit-error" });
  const formError = h("div", { class: "form-error", role: "alert", id: "takeover-error" });
  const submit = h("button", { class: "btn primary", type: "button", id: "takeover-submit" }, "Take over");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const offline = state.status !== "online";
  const body = h("div", { class: "transfer-form" },
    h("p", { class: "small muted", text: `This is a transfer from ${who} to you: the visitor is told why and what they gain, in their language, and ${who} is told the chat is yours.` }),
    offline ? h("p", { class: "small warn-text", id: "takeover-offline", text: "You are not online: go online first, with a free slot, to take a chat." }) : null,
    h("label", { for: "takeover-reason" }, "Why do you take the chat over? (the visitor reads this)"), reason, reasonError,
    h("label", { for: "takeover-benefit" }, "What does the visitor gain?"), benefit, benefitError,
    formError);
  const { close } = modal({ title: `Take over Visitor #${w.cid}`, body, actions: [cancel, submit], onClose: () => { if (ui.transferDialog && ui.transferDialog.takeOver) ui.transferDialog = null; } });
  cancel.addEventListener("click", close);
  submit.addEventListener("click", () => {
    reasonError.textContent = reason.value.trim() ? "" : "Say why: the visitor is told the reason.";
    benefitError.textContent = benefit.value.trim() ? "" : "Say what the visitor gains from the change.";
    if (!reason.value.trim() || !benefit.value.trim()) return;
    formError.textContent = "";
    submit.disabled = true;
    if (!sendFrame({ type: "take_over", conversation_id: w.cid, reason: reason.value.trim(), benefit: benefit.value.trim() })) {
      submit.disabled = false;
      formError.textContent = "Not connected.";
    }
  });
  // Errors about this chat (or about no chat: a refused transfer) come to the open dialog.
  ui.transferDialog = {
    cid: w.cid,
    takeOver: true,
    done: () => close(),
    onError: (frame) => {
      submit.disabled = false;
      formError.textContent = frame.message || frame.code;
    },
  };
  reason.focus();
}

// The chat is ours now: the dialog closes, the offer the take-over made goes, the chat opens.
export function tookOver(cid, open) {
  if (!sup.watch || sup.watch.cid !== cid) return;
  if (ui.transferDialog && ui.transferDialog.takeOver) ui.transferDialog.done();
  stopWatching();
  open(cid);
}
