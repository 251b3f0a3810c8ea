// "Live chats", for supervisors and admins only: every open chat of the service, polled from
// /api/supervision/chats, with who holds it, what the visitor is waiting for and for how long,
// and the hard situation of their last message. Choosing one opens it to watch silently.

import { api, duration, h, replace } from "/console/ui.js";
import { QUEUE_POLL_MS, SITUATIONS } from "./constants.js";
import { state, ui } from "./state.js";

export const sup = { chats: [], timer: null, busy: false, watch: null, onChoose: null };

export function isSupervisor() {
  return Boolean(state.me && (state.me.role === "supervisor" || state.me.role === "admin"));
}

// The "Live chats" section at the foot of the list column (built once, after the layout).
export function buildLive(onChoose) {
  sup.onChoose = onChoose;
  const pane = document.getElementById("pane-list");
  if (!pane || ui.liveList) return;
  ui.liveList = h("ul", { class: "live-list", id: "live-list", "aria-label": "Every live chat" });
  ui.liveCount = h("span", { class: "muted small" });
  pane.append(h("section", { class: "list-section live-section", id: "live-section" },
    h("div", { class: "section-head" }, h("h2", { text: "Live chats · supervise" }), ui.liveCount), ui.liveList));
  renderLive();
}

function waitingText(c) {
  if (c.waiting === "line") return `in line ${duration(c.waiting_s)}`;
  if (c.waiting === "answer") return `waiting for an answer ${duration(c.waiting_s)}`;
  return "answered";
}

function stateText(c) {
  if (c.left_message) return "left a message";
  if (c.state === "transferring") return "being transferred";
  return c.operator ? `with ${c.operator.name}` : "nobody yet";
}

export function renderLive() {
  if (!ui.liveList) return;
  const chats = sup.chats;
  ui.liveCount.textContent = String(chats.length);
  if (!chats.length) {
    replace(ui.liveList, h("li", { class: "list-empty" }, "No live chats right now."));
    return;
  }
  const watching = sup.watch ? sup.watch.cid : null;
  replace(ui.liveList, chats.map((c) => h("li", { class: ["live-item", c.conversation_id === watching && "active"], dataset: { cid: String(c.conversation_id) } },
    h("button", { type: "button", class: "chat-item-btn live-btn", title: "Watch this chat silently: nobody in it is told", onclick: () => sup.onChoose && sup.onChoose(c) },
      h("span", { class: "q-main" },
        h("span", { class: "q-top" },
          h("strong", { text: `Visitor #${c.conversation_id}${c.locale ? " · " + c.locale.toUpperCase() : ""}` }),
          c.situation ? h("span", { class: "badge brand live-situation", text: (SITUATIONS[c.situation] || [c.situation])[0] }) : null,
          c.conversation_id === watching ? h("span", { class: "badge warn", text: "watching" }) : null),
        h("span", { class: "q-sub muted small live-sub" },
          h("span", { class: "live-operator", text: stateText(c) }), " · ",
          h("span", { class: ["live-wait", c.waiting === "answer" && c.waiting_s > 60 && "late"], text: waitingText(c) })))))));
}

export function liveChat(cid) {
  return sup.chats.find((c) => c.conversation_id === cid) || null;
}

export async function pollLive() {
  clearTimeout(sup.timer);
  if (!state.session || !isSupervisor() || sup.busy) return;
  sup.busy = true;
  try {
    const data = await api("/api/supervision/chats", { token: state.session.token });
    sup.chats = data.chats || [];
    renderLive();
  } catch (err) {
    // A refusal (not a supervisor after all) or a dropped link: try again later.
  } finally {
    sup.busy = false;
  }
  clearTimeout(sup.timer);
  if (state.session) sup.timer = setTimeout(pollLive, QUEUE_POLL_MS);
}
