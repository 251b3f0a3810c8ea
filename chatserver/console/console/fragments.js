// Small pieces of DOM drawn by more than one pane: a message of a chat, a reply text with its
// blanks marked, and a wait estimate as the visitor was told it.

import { clock, duration, h } from "/console/ui.js";
import { state } from "./state.js";

export function waitText(figures) {
  // An estimate with its range, as the visitor was told it: "≈ 2 min (at most 5 min)".
  let text = duration(figures.estimated_wait_s);
  if (figures.high_s !== undefined && figures.high_s !== null && figures.high_s > figures.estimated_wait_s) text += ` (at most ${duration(figures.high_s)})`;
  return text;
}

export function messageItem(msg) {
  const sender = msg.sender || "system";
  const meta = [];
  if (sender === "operator") {
    if (msg.author && msg.author.name && (!state.me || msg.author.name !== state.me.name)) meta.push(msg.author.name + " · ");
    meta.push(msg.ts ? clock(msg.ts) : "");
    if (msg.status === "pending") meta.push(" · sending…");
    else if (msg.status === "failed") meta.push(" · not sent");
    else meta.push(" · ✓ delivered");
  } else if (msg.ts) meta.push(clock(msg.ts));
  return h("li", { class: ["msg", sender, msg.status], dataset: { seq: msg.seq === undefined || msg.seq === null ? "" : String(msg.seq) } },
    h("div", { class: "bubble", text: msg.text }),
    h("div", { class: "meta", text: meta.join("") }));
}

export function slotText(text) {
  const parts = [];
  const re = /\[\[([^\]\n]+)\]\]/g;
  let at = 0;
  let m;
  while ((m = re.exec(text))) {
    parts.push(text.slice(at, m.index));
    parts.push(h("mark", { class: "slot", text: m[1] }));
    at = m.index + m[0].length;
  }
  parts.push(text.slice(at));
  return parts;
}
