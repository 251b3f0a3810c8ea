// The operator's own status (online, away, offline): the switch in the app bar, the status
// asked of the server, and the empty chat pane that invites to go online.

import { h, replace, toast } from "/console/ui.js";
import { remember, state, ui } from "./state.js";
import { sendFrame } from "./socket.js";

export function statusTitle(status) {
  return { online: "Online: new chats come to you", away: "Away: keep your chats, no new ones", offline: "Offline: no new chats" }[status];
}

export function setStatus(status) {
  state.wanted = status;
  remember();
  if (!sendFrame({ type: "status", status })) toast("Not connected yet; your status is set when the connection is back.");
  renderStatus();
}

export function renderStatus() {
  if (!ui.statusButtons) return;
  for (const [status, button] of Object.entries(ui.statusButtons)) {
    const on = status === state.status;
    button.setAttribute("aria-checked", String(on));
    button.classList.toggle("on", on);
    button.classList.toggle("wanted", status === state.wanted && !on);
  }
  renderEmpty();
}

export function renderEmpty() {
  if (!ui.chatEmpty) return;
  const online = state.status === "online";
  replace(ui.chatEmpty, h("div", { class: "empty big" },
    h("div", { class: "empty-art", "aria-hidden": "true" }),
    h("strong", { text: online ? "You're online" : "You're " + state.status }),
    h("p", { text: online ? "New chats open here as soon as a visitor writes." : "Go online to start receiving chats." }),
    online ? null : h("button", { class: "btn primary go-online", type: "button", id: "go-online", onclick: () => setStatus("online") }, "Go online")));
}
