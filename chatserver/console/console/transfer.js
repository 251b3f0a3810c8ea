// The transfer dialog: to a team or a colleague, with the reason and the gain the visitor is
// told, how long it would take now, and the alternatives the server offers when it refuses.

import { api, duration, h, modal, replace } from "/console/ui.js";
import { QUEUE_POLL_MS } from "./constants.js";
import { state, ui } from "./state.js";
import { chatName } from "./chats.js";
import { sendFrame } from "./socket.js";
import { waitText } from "./fragments.js";

export async function openTransfer(chat) {
  if (!chat || chat.ended) return;
  const target = h("select", { id: "transfer-to", "aria-label": "Transfer to" }, h("option", { value: "", text: "Loading…" }));
  const reason = h("textarea", { id: "transfer-reason", rows: "2", maxlength: "500", placeholder: "e.g. Billing can change the invoice address" });
  const benefit = h("textarea", { id: "transfer-benefit", rows: "2", maxlength: "500", placeholder: "e.g. It is fixed today, in this chat" });
  const reasonError = h("p", { class: "field-error", id: "transfer-reason-error" });
  const benefitError = h("p", { class: "field-error", id: "transfer-benefit-error" });
  const waitBox = h("div", { class: "wait-box", id: "transfer-wait", role: "status" });
  const formError = h("div", { class: "form-error", role: "alert", id: "transfer-error" });
  const alternatives = h("div", { class: "alternatives" });
  const submit = h("button", { class: "btn primary", type: "button", id: "transfer-submit" }, "Transfer");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  let directory = null;

  const body = h("div", { class: "transfer-form" },
    h("p", { class: "small muted", text: "The visitor is told who takes over, why, what they gain and how long it will take, in their language. You stay in the chat until a colleague accepts." }),
    h("label", { for: "transfer-to" }, "Transfer to"), target,
    h("label", { for: "transfer-reason" }, "Why are you transferring? (the visitor reads this)"), reason, reasonError,
    h("label", { for: "transfer-benefit" }, "What does the visitor gain?"), benefit, benefitError,
    waitBox, formError, alternatives);
  const { close } = modal({ title: `Transfer ${chatName(chat)}`, body, actions: [cancel, submit], onClose: () => { clearInterval(timer); ui.transferDialog = null; } });
  cancel.addEventListener("click", close);

  const parseTarget = (value) => {
    if (!value) return null;
    const [kind, id] = value.split(":");
    return kind === "team" ? { team: decodeURIComponent(id) } : { operator_id: Number(id) };
  };
  const drawWait = () => {
    const to = parseTarget(target.value);
    if (!directory || !to) {
      replace(waitBox, h("span", { class: "muted small", text: "Choose who takes over to see the wait." }));
      return;
    }
    const waiting = state.queue.waiting || [];
    const longest = waiting.reduce((max, w) => (w.estimated_wait_s !== null && w.estimated_wait_s > max ? w.estimated_wait_s : max), 0);
    let line;
    let tone = "ok";
    if (to.team) {
      const team = directory.teams.find((t) => t.name === to.team) || { online: 0, free_slots: 0, waiting: 0 };
      if (team.free_slots > 0) line = `${team.online} online in ${to.team}, ${team.free_slots} free now: a colleague is asked at once; the visitor hears the wait is short.`;
      else if (team.online > 0) { tone = "warn"; line = `${to.team}: ${team.online} online but nobody is free. ${team.waiting} waiting for the team. Queue estimate now: ${waiting.length ? "≈ " + duration(longest) + " for the last in line" : "unknown"}.`; }
      else { tone = "bad"; line = `Nobody in ${to.team} is online. You can still queue the visitor for the team when you send.`; }
    } else {
      const op = directory.operators.find((o) => o.id === to.operator_id);
      if (op && op.free_slots > 0) line = `${op.name} is online with ${op.free_slots} free slot${op.free_slots > 1 ? "s" : ""}: asked at once.`;
      else if (op && op.status !== "offline") { tone = "warn"; line = `${op.name} is ${op.status} and has no free slot.`; }
      else { tone = "bad"; line = `${op ? op.name : "This colleague"} is offline.`; }
    }
    replace(waitBox, h("span", { class: ["dot", tone === "ok" ? "online" : tone === "warn" ? "away" : "offline"] }), h("span", { text: line }));
  };
  const loadDirectory = async () => {
    try {
      directory = await api("/api/directory", { token: state.session.token });
    } catch (err) {
      replace(target, h("option", { value: "", text: "Could not load colleagues" }));
      return;
    }
    const chosen = target.value;
    const colleagues = directory.operators.filter((o) => !o.me);
    const nobody = !directory.teams.length && !colleagues.length;
    replace(target,
      h("option", { value: "", text: nobody ? "Nobody to transfer to: there are no teams or colleagues yet" : "Choose a team or a colleague…" }),
      directory.teams.length ? h("optgroup", { label: "Teams" }, directory.teams.map((t) => h("option", { value: "team:" + encodeURIComponent(t.name), text: `${t.name} — ${t.online} online, ${t.free_slots} free` }))) : null,
      colleagues.length ? h("optgroup", { label: "Colleagues" }, colleagues.map((o) => h("option", { value: "op:" + o.id, text: `${o.name}${o.title ? " (" + o.title + ")" : ""} — ${o.status}${o.status === "online" ? ", " + o.free_slots + " free" : ""}` }))) : null);
    submit.disabled = nobody;
    if (chosen) target.value = chosen;
    drawWait();
  };
  target.addEventListener("change", () => { drawWait(); replace(alternatives); formError.textContent = ""; });
  const timer = setInterval(loadDirectory, QUEUE_POLL_MS);
  loadDirectory();

  const send = (to, queue = false) => {
    reasonError.textContent = reason.value.trim() ? "" : "Say why: the visitor is told the reason.";
    benefitError.textContent = benefit.value.trim() ? "" : "Say what the visitor gains from the transfer.";
    reason.classList.toggle("invalid", !reason.value.trim());
    benefit.classList.toggle("invalid", !benefit.value.trim());
    if (!to) {
      formError.textContent = "Choose a team or a colleague.";
      return;
    }
    if (!reason.value.trim() || !benefit.value.trim()) return;
    formError.textContent = "";
    submit.disabled = true;
    const frame = { type: "transfer", conversation_id: chat.id, to, reason: reason.value.trim(), benefit: benefit.value.trim() };
    if (queue) frame.queue = true;
    if (!sendFrame(frame)) {
      submit.disabled = false;
      formError.textContent = "Not connected.";
    }
  };
  submit.addEventListener("click", () => send(parseTarget(target.value)));
  ui.transferDialog = {
    cid: chat.id,
    done: () => close(),
    onError: (frame) => {
      submit.disabled = false;
      if (frame.code === "transfer_reason_required") {
        reasonError.textContent = frame.message;
        return;
      }
      formError.textContent = frame.message || frame.code;
      if (frame.alternatives && frame.alternatives.length) {
        replace(alternatives, h("p", { class: "small muted", text: "Instead you can:" }), frame.alternatives.map((alt) => {
          const to = alt.to || parseTarget(target.value);
          const label = alt.queue
            ? `Queue for ${to.team || "this colleague"} anyway — the visitor is told ${alt.estimated_wait_s === null ? "there is no estimate (nobody online)" : "≈ " + waitText(alt)}`
            : `Transfer to ${to.team} instead — ${alt.free_slots} free now, ≈ ${waitText(alt)}`;
          return h("button", { class: "btn alt", type: "button", onclick: () => send(to, alt.queue) }, label);
        }));
      }
    },
  };
  reason.focus();
}
