// The abusive visitor protocol in the console: sending a step (with the visitor's last words as
// the reason, and the recognizer's "hater" signal when the operator confirms it), and, for
// supervisors, the notices of cool-downs and blocks taken anywhere in the team.

import { toast } from "/console/ui.js";
import { state } from "./state.js";
import { sendFrame } from "./socket.js";

const STEP_WORDS = { cool_down: "gave a cool-down to", block: "blocked", lift: "unblocked", end_cool_down: "ended the cool-down of" };

function lastVisitorWords(chat) {
  for (let i = chat.messages.length - 1; i >= 0; i--) {
    const msg = chat.messages[i];
    if (msg.sender === "visitor" && typeof msg.text === "string") return msg.text.slice(0, 500);
  }
  return undefined;
}

// ``confirmed``: the operator agreed with the recognizer that this is an abusive visitor.
export function sendBoundary(chat, step, confirmed = false) {
  const frame = { type: "boundary", conversation_id: chat.id, step, reason: lastVisitorWords(chat) };
  if (confirmed || (chat.suggestions && chat.suggestions.situation === "hater")) frame.signal = "hater";
  sendFrame(frame);
}

function noticeLine(frame) {
  const by = (frame.operator && frame.operator.name) || "Someone";
  const why = frame.reason ? `: “${frame.reason}”` : "";
  return `${by} ${STEP_WORDS[frame.step] || frame.step} a visitor${frame.conversation_id ? ` (chat ${frame.conversation_id})` : ""}${why}`;
}

// Supervisors: each live step as a toast; the last day's, sent at sign-in, as one summary.
export function onBoundaryNotice(frame) {
  state.boundaryNotices = state.boundaryNotices || [];
  if (state.boundaryNotices.some((n) => n.audit_id === frame.audit_id)) return;
  state.boundaryNotices.push(frame);
  if (!frame.recent) {
    toast(noticeLine(frame), frame.step === "block" ? "error" : "info", 8000);
    return;
  }
  clearTimeout(state.recentNoticeTimer);
  state.recentNoticeTimer = setTimeout(() => {
    const recent = state.boundaryNotices.filter((n) => n.recent);
    if (recent.length) toast(`${recent.length} boundary step(s) in the last day. Latest: ${noticeLine(recent[recent.length - 1])}`, "info", 8000);
  }, 300);
}
