// Desktop notifications, only while the console tab is hidden, switched with the bell.

import { icon, replace, toast } from "/console/ui.js";
import { remember, state, ui } from "./state.js";
import { renderTitle } from "./chatlist.js";

export function renderBell() {
  if (!ui.bell) return;
  const supported = "Notification" in window;
  replace(ui.bell, icon(state.notify ? "bell" : "bellOff"));
  ui.bell.setAttribute("aria-pressed", String(state.notify));
  ui.bell.setAttribute("aria-label", state.notify ? "Desktop notifications on" : "Desktop notifications off");
  ui.bell.title = supported ? (state.notify ? "Desktop notifications are on (click to turn off)" : "Turn on desktop notifications for new chats") : "This browser has no desktop notifications";
  ui.bell.disabled = !supported;
}

export async function toggleNotifications() {
  if (!("Notification" in window)) return;
  if (state.notify) {
    state.notify = false;
  } else {
    const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    state.notify = permission === "granted";
    if (!state.notify) toast("Notifications are blocked in this browser's settings.");
  }
  remember();
  renderBell();
}

export function notify(title, body) {
  renderTitle();
  if (!state.notify || !document.hidden) return;
  try {
    const n = new Notification(title, { body: String(body).slice(0, 160), tag: "chatdesk" });
    n.onclick = () => window.focus();
  } catch (err) {
    /* some browsers allow notifications only from a service worker */
  }
}
