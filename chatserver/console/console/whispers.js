// Supervisors' whispers as an operator sees them: in the chat's log, between the messages at the
// time they came, drawn apart from anything the visitor can read (the server never sends them to
// a visitor; docs/protocol.md "Supervisors").

import { clock, h } from "/console/ui.js";
import { state } from "./state.js";

// Adds the whisper to ``holder.whispers`` unless it is there already; whether it was new.
export function keepWhisper(holder, frame) {
  holder.whispers = holder.whispers || [];
  if (holder.whispers.some((w) => w.whisper_id === frame.whisper_id)) return false;
  holder.whispers.push(frame);
  holder.whispers.sort((a, b) => a.ts - b.ts);
  return true;
}

// The messages with the whispers slotted in by time; messages not yet stored (no ts) stay last.
export function withWhispers(messages, whispers) {
  if (!whispers || !whispers.length) return messages;
  const out = [];
  let next = 0;
  for (const msg of messages) {
    while (next < whispers.length && msg.ts && whispers[next].ts < msg.ts) out.push(whispers[next++]);
    out.push(msg);
  }
  const pendingAt = out.findIndex((m) => !m.ts);
  const rest = whispers.slice(next);
  if (pendingAt < 0) out.push(...rest);
  else out.splice(pendingAt, 0, ...rest);
  return out;
}

export function isWhisper(item) {
  return item.type === "whisper";
}

// One whisper: who sent it, to whom, and that the visitor cannot see it.
export function whisperItem(w) {
  const who = w.from ? w.from.name : "Supervisor";
  const mine = state.me && w.from && w.from.id === state.me.id;
  return h("li", { class: "msg whisper", dataset: { whisperId: String(w.whisper_id) } },
    h("div", { class: "whisper-label", text: mine ? "Your whisper · the visitor does not see it" : `Whisper from ${who} · only you see this` }),
    h("div", { class: "bubble", text: w.text }),
    h("div", { class: "meta", text: w.ts ? clock(w.ts) : "" }));
}
