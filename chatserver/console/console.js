// The operator console: chats, the waiting line, the chat itself, the customer and reply suggestions.
// Speaks the operator socket of docs/protocol.md. Remote text reaches the page only via textContent.
// This entry signs in and starts the console; the parts are the modules in console/.

import { loadSession } from "/console/ui.js";
import { PHONE, SESSION_KEY } from "./console/constants.js";
import { hooks, state } from "./console/state.js";
import { markRead, setTab } from "./console/chats.js";
import { showLogin } from "./console/signin.js";
import { renderList, renderTitle, selectChat } from "./console/chatlist.js";
import { pollQueue } from "./console/queue.js";
import { loadTypes } from "./console/customer.js";
import { installShortcuts } from "./console/keyboard.js";
import { buildLayout, renderAll } from "./console/layout.js";
import { connect } from "./console/connection.js";
import { startSupervision } from "./console/supervision.js";

function boot() {
  const session = loadSession(SESSION_KEY);
  if (session && session.token) start(session);
  else showLogin();
}

function start(session) {
  state.session = session;
  state.me = session.operator;
  state.wanted = session.wanted || "offline";
  state.notify = Boolean(session.notify) && "Notification" in window && Notification.permission === "granted";
  buildLayout();
  startSupervision();
  connect();
  pollQueue();
  loadTypes();
}

Object.assign(hooks, { start, renderAll, renderList, renderTitle, selectChat });
installShortcuts();

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.active) markRead(state.chats.get(state.active));
});
PHONE.addEventListener("change", () => setTab(state.tab));

boot();
