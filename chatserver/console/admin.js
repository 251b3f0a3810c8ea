// Admin pages: the reply library (per situation and language, live preview, versions, import and
// export), operators and teams, the hold messages, the assistant's learning, the reports, the ideas heard and the abusive visitors.
// Remote text only ever goes through textContent or form values. This entry signs in, draws the frame and routes between the pages
// in admin/.

import { h, loadSession, replace, toast } from "/console/ui.js";
import { hooks, SESSION_KEY, state, ui } from "./admin/state.js";
import { adoptConsoleSession, call, showLogin, signOut } from "./admin/session.js";
import { showReplies } from "./admin/library.js";
import { loadOperators, showOperators } from "./admin/operators.js";
import { showTeams } from "./admin/teams.js";
import { showHold } from "./admin/hold.js";
import { showAssistant } from "./admin/assistant.js";
import { showReports } from "./admin/reports.js";
import { showIdeas } from "./admin/ideas.js";
import { showSafety } from "./admin/safety.js";

function boot() {
  const session = loadSession(SESSION_KEY) || adoptConsoleSession();
  if (session && session.token && session.operator && session.operator.role === "admin") start(session);
  else showLogin();
}

async function start(session) {
  state.session = session;
  buildLayout();
  window.addEventListener("hashchange", route);
  try {
    const [libraries, variables] = await Promise.all([call("/api/admin/libraries"), call("/api/admin/variables")]);
    state.languages = libraries.libraries[0].languages;
    state.variables = variables.variables;
    if (!state.languages.includes(state.language)) state.language = state.languages[0] || "en";
  } catch (err) {
    if (err.status === 403) {
      signOut("This account is not an admin (any more).");
      return;
    }
    toast(err.message, "error");
  }
  loadOperators();
  route();
}

function buildLayout() {
  const app = document.getElementById("app");
  app.className = "admin";
  ui.nav = {};
  const nav = h("nav", { class: "side-nav", "aria-label": "Admin sections" },
    [["replies", "Reply library", "Replies"], ["operators", "Operators", "Operators"], ["teams", "Teams", "Teams"], ["hold", "Hold messages", "Hold"], ["assistant", "Assistant", "Assistant"], ["reports", "Reports", "Reports"], ["ideas", "Ideas heard", "Ideas"], ["safety", "Abusive visitors", "Blocks"]].map(([id, label, short]) => {
      const link = h("a", { href: "#" + id, class: "nav-link", dataset: { view: id } }, h("span", { class: "long", text: label }), h("span", { class: "short", text: short }));
      ui.nav[id] = link;
      return link;
    }));
  ui.main = h("main", { class: "admin-main", id: "main", tabindex: "-1" });
  const bar = h("header", { class: "appbar" },
    h("div", { class: "brand-row" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name", text: "Chatdesk" }), h("span", { class: "badge brand admin-badge", text: "Admin" })),
    h("span", { class: "spacer" }),
    h("a", { class: "btn small", href: "/console" }, "Console"),
    h("div", { class: "who" }, h("span", { text: state.session.operator.name }), h("small", { text: "admin" })),
    h("button", { class: "btn small", type: "button", onclick: () => signOut() }, "Sign out"));
  replace(app, bar, h("div", { class: "admin-shell" }, nav, ui.main));
}

function route() {
  const view = (location.hash || "#replies").slice(1);
  state.view = ["replies", "operators", "teams", "hold", "assistant", "reports", "ideas", "safety"].includes(view) ? view : "replies";
  for (const [id, link] of Object.entries(ui.nav)) {
    link.classList.toggle("on", id === state.view);
    if (id === state.view) {
      link.setAttribute("aria-current", "page");
      // On a phone the sections scroll sideways: keep the open one in sight.
      const bar = link.parentElement.getBoundingClientRect();
      const box = link.getBoundingClientRect();
      if (box.right > bar.right || box.left < bar.left) link.parentElement.scrollLeft += box.left - bar.left - (bar.width - box.width) / 2;
    } else link.removeAttribute("aria-current");
  }
  ({ replies: showReplies, operators: showOperators, teams: showTeams, hold: showHold, assistant: showAssistant, reports: showReports, ideas: showIdeas, safety: showSafety })[state.view]();
}

hooks.start = start;

boot();
