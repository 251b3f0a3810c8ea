// What the console knows (one `state` object) and the DOM nodes it draws into (`ui`), shared by
// every module; the read marks and the session live in this tab's sessionStorage.

import { saveSession } from "/console/ui.js";
import { READ_KEY, SESSION_KEY } from "./constants.js";

export const state = {
  session: null,
  me: null,
  ws: null,
  connected: false,
  retry: 0,
  retryTimer: null,
  status: "offline",
  wanted: "offline",
  chats: new Map(),
  order: [],
  active: null,
  queue: { waiting: [], operators_online: 0 },
  queueTimer: null,
  offers: new Map(),
  types: null,
  tab: "list",
  notify: false,
  pending: new Map(),
  search: { popup: null, panel: null },
  popup: null,
  read: loadRead(),
};
export const ui = {};

// Functions that modules low in the import graph call but modules above them define: marking a
// chat read redraws the list and the title, choosing or removing a chat redraws every pane, and
// signing in starts the console; the list of owed answers selects a chat. The page entry (console.js) fills these in before it boots;
// calling through here keeps the modules free of import cycles.
export const hooks = { start: null, renderAll: null, renderList: null, renderTitle: null, selectChat: null };

function loadRead() {
  try {
    return JSON.parse(sessionStorage.getItem(READ_KEY) || "{}");
  } catch (err) {
    return {};
  }
}

export function saveRead() {
  sessionStorage.setItem(READ_KEY, JSON.stringify(state.read));
}

export function remember() {
  saveSession(SESSION_KEY, { ...state.session, operator: state.me, wanted: state.wanted, notify: state.notify });
}
