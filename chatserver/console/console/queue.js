// The waiting line: polled from /api/queue every few seconds and shown under the chats.

import { api, duration, h, replace } from "/console/ui.js";
import { QUEUE_POLL_MS } from "./constants.js";
import { state, ui } from "./state.js";
import { signOut } from "./signin.js";

export function renderQueue() {
  const waiting = state.queue.waiting || [];
  ui.queueCount.textContent = waiting.length ? `${waiting.length} · ${state.queue.operators_online} online` : `${state.queue.operators_online || 0} online`;
  ui.queuePill.textContent = "";
  ui.queuePill.append(h("span", { class: "queue-num", text: String(waiting.length) }), h("span", { text: " waiting" }));
  ui.queuePill.classList.toggle("busy", waiting.length > 0);
  if (!waiting.length) {
    replace(ui.queueList, h("li", { class: "list-empty" }, "Nobody is waiting."));
    return;
  }
  replace(ui.queueList, waiting.map((w) => h("li", { class: "queue-item" },
    h("span", { class: "pos", title: "Position in line", text: `#${w.position}` }),
    h("span", { class: "q-main" },
      h("span", { class: "q-top" }, h("span", { text: `Visitor · ${w.locale || "?"}` }), w.team ? h("span", { class: "badge", text: w.team }) : null,
        w.state === "transferring" ? h("span", { class: "badge warn", text: "transfer" }) : null),
      h("span", { class: "q-sub muted small", text: `waiting ${duration(w.waiting_s)} · told ${w.estimated_wait_s === null ? "no estimate" : "≈ " + duration(w.estimated_wait_s) + (w.high_s === null || w.high_s === undefined ? "" : ` (${duration(w.low_s ?? 0)}–${duration(w.high_s)})`)}` })),
  )));
}

export async function pollQueue() {
  clearTimeout(state.queueTimer);
  if (!state.session || state.queueBusy) return;
  state.queueBusy = true;
  try {
    state.queue = await api("/api/queue", { token: state.session.token });
    renderQueue();
  } catch (err) {
    if (err.status === 401) {
      state.queueBusy = false;
      signOut("Your session has ended. Sign in again.");
      return;
    }
  } finally {
    state.queueBusy = false;
  }
  // One timer at a time, however many refreshes were asked for meanwhile.
  clearTimeout(state.queueTimer);
  if (state.session) state.queueTimer = setTimeout(pollQueue, QUEUE_POLL_MS);
}
