// Signing in (an admin of the console in this tab need not sign in again), signing out, and
// the authorised API call that signs out when the session has ended.

import { api, loadSession, loginCard, replace, saveSession } from "/console/ui.js";
import { hooks, SESSION_KEY, state } from "./state.js";

export function token() {
  return state.session.token;
}

export function call(path, options = {}) {
  return api(path, { ...options, token: token() }).catch((err) => {
    if (err.status === 401) {
      signOut("Your session has ended. Sign in again.");
    }
    throw err;
  });
}

export function adoptConsoleSession() {
  // An admin already signed in to the console in this tab need not sign in again.
  const consoleSession = loadSession("chatdesk.console");
  if (consoleSession && consoleSession.operator && consoleSession.operator.role === "admin") {
    const session = { token: consoleSession.token, operator: consoleSession.operator };
    saveSession(SESSION_KEY, session);
    return session;
  }
  return null;
}

export function showLogin(message) {
  const app = document.getElementById("app");
  app.className = "";
  replace(app, loginCard({
    title: "Admin sign in",
    subtitle: "Reply library, operators and teams, hold messages.",
    note: "Needs an admin account.",
    onSignedIn: (data, fail) => {
      if (data.operator.role !== "admin") {
        fail("This account is not an admin. Operators work in the console.");
        return;
      }
      saveSession(SESSION_KEY, { token: data.token, operator: data.operator });
      hooks.start(loadSession(SESSION_KEY));
    },
  }));
  if (message) document.getElementById("login-error").textContent = message;
}

export function signOut(message) {
  saveSession(SESSION_KEY, null);
  showLogin(message);
}
