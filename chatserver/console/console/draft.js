// The text in the reply box: its blanks ([[slot]], {variable}, ___) highlighted behind the
// transparent textarea, chips to jump to them, and why the last send was refused.

import { h, replace } from "/console/ui.js";
import { PHONE } from "./constants.js";
import { ui } from "./state.js";

const MARKER_RE = /\[\[[^\]\n]+\]\]|\{[a-z_]+(?:\.[a-z_]+)*\}|_{3,}/g;

export function markers(text) {
  const found = [];
  MARKER_RE.lastIndex = 0;
  let m;
  while ((m = MARKER_RE.exec(text))) found.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  return found;
}

function markerName(text) {
  if (text.startsWith("[[")) return text.slice(2, -2);
  if (text.startsWith("{")) return text.slice(1, -1);
  return "blank";
}

export function renderComposer(chat) {
  const text = ui.input.value;
  const found = markers(text);
  const bad = chat && chat.sendError && chat.sendError.code === "unfilled_slot";
  // The backdrop mirrors the text, with the blanks marked; the transparent textarea sits on top.
  const parts = [];
  let at = 0;
  for (const m of found) {
    parts.push(text.slice(at, m.start));
    parts.push(h("mark", { class: ["slot", bad && "bad"], text: m.text }));
    at = m.end;
  }
  parts.push(text.slice(at) + "\n");
  replace(ui.backdrop, parts);
  ui.backdrop.scrollTop = ui.input.scrollTop;
  replace(ui.slotBar, found.length ? [h("span", { class: "small muted", text: "Fill:" }),
    found.map((m, index) => h("button", { type: "button", class: ["slot-chip", bad && "bad"], title: "Select this blank (Tab)", onclick: () => selectMarker(index) }, markerName(m.text)))] : []);
  const ended = !chat || Boolean(chat.ended);
  ui.input.disabled = ended;
  ui.send.disabled = ended || !text.trim();
  if (chat && chat.sendError) {
    const e = chat.sendError;
    const message = e.code === "unfilled_slot"
      ? `Not sent: fill the highlighted blanks first (${e.message.replace(/^fill these before sending: /, "")}).`
      : `Not sent: ${e.message || e.code}`;
    ui.sendError.textContent = message;
    ui.sendError.classList.remove("hidden");
  } else {
    ui.sendError.textContent = "";
    ui.sendError.classList.add("hidden");
  }
  autoGrow();
}

function autoGrow() {
  ui.input.style.height = "auto";
  const height = Math.min(Math.max(ui.input.scrollHeight + 2, 64), PHONE.matches ? 140 : 200);
  ui.input.style.height = height + "px";
}

export function selectMarker(index) {
  const found = markers(ui.input.value);
  if (!found.length) return false;
  const m = found[(index + found.length) % found.length];
  ui.input.focus();
  ui.input.setSelectionRange(m.start, m.end);
  return true;
}

export function nextMarker(backwards) {
  const found = markers(ui.input.value);
  if (!found.length) return false;
  const pos = backwards ? ui.input.selectionStart : ui.input.selectionEnd;
  let index;
  if (backwards) {
    index = -1;
    found.forEach((m, i) => { if (m.end <= pos && !(m.start === ui.input.selectionStart && m.end === ui.input.selectionEnd)) index = i; });
    if (index < 0) index = found.length - 1;
  } else {
    index = found.findIndex((m) => m.start >= pos);
    if (index < 0) index = 0;
  }
  return selectMarker(index);
}
