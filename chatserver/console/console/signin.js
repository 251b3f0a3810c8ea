// The sign-in card and signing out; the session is kept for this tab only.

import { loadSession, loginCard, replace, saveSession } from "/console/ui.js";
import { READ_KEY, SESSION_KEY } from "./constants.js";
import { hooks, state } from "./state.js";
import { stopConnection } from "./socket.js";

export function showLogin(message) {
  stopConnection();
  const app = document.getElementById("app");
  app.className = "";
  replace(app, loginCard({
    title: "Sign in to the console",
    subtitle: "Chat with visitors, with their history and reply suggestions beside you.",
    onSignedIn: (data) => {
      saveSession(SESSION_KEY, { token: data.token, operator: data.operator, wanted: "offline" });
      hooks.start(loadSession(SESSION_KEY));
    },
  }));
  if (message) {
    const error = document.getElementById("login-error");
    if (error) error.textContent = message;
  }
}

export function signOut(message) {
  state.session = null;
  saveSession(SESSION_KEY, null);
  sessionStorage.removeItem(READ_KEY);
  state.chats.clear();
  state.order = [];
  state.active = null;
  state.offers.clear();
  state.pending.clear();
  document.title = "Chatdesk · Console";
  showLogin(message);
}
