// The operator console: chats, the waiting line, the chat itself, the customer and reply suggestions.
// Speaks the operator socket of docs/protocol.md. Remote text reaches the page only via textContent.

import {
  h, clear, replace, api, loadSession, saveSession, clock, day, dayTime, duration, money, safeUrl,
  toast, debounce, modal, confirmDialog, loginCard, icon,
} from "/console/ui.js";

const SESSION_KEY = "chatdesk.console";
const READ_KEY = "chatdesk.console.read";
const QUEUE_POLL_MS = 4000;
const TYPING_SHOW_MS = 6000;
const TYPING_SEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const PHONE = window.matchMedia("(max-width: 760px)");

// The eight hard situations of PLAYBOOK.md, with the structure each reply should follow.
const SITUATIONS = {
  cannot_do: ["We can't do that", "Name the policy, give the reason, offer an alternative. Inform; don't apologise for a decision."],
  defect: ["Defective product", "Apologise, sympathise, take it on us, offer a replacement or refund now."],
  out_of_stock: ["Out of stock", "Lead with when it is back and an action (order now), not with the absence."],
  pointless_suggestion: ["Feature request", "Thank them, say an honest no, mention what is coming, promise they'll be first to know."],
  dont_know: ["You don't know", "Don't guess: say you'll find out, give a time frame, and see it through."],
  hater: ["Angry visitor", "Acknowledge, apologise, act. Tackle the problem, never the person; set boundaries calmly."],
  transfer: ["Transfer", "Say why you transfer and what they gain; announce the wait; keep them company meanwhile."],
  ending: ["Ending the chat", "Confirm the fix, ask if there is anything else; the customer decides when it's right."],
  general: ["General", ""],
};
const SEGMENTS = {
  A: "A: among the best customers (the top share of all order value)",
  B: "B: promising, could become A",
  C: "C: small, steady customer",
  D: "D: many returns or complaints; costs time",
};
const OUTCOMES = { served: ["Served", "ok"], unserved: ["Unserved", "bad"], open: ["Open", "brand"] };
const TRANSFER_STATUS = {
  offering: "Looking for a colleague…",
  offered: "Offered to",
  queued: "Waiting for a free colleague in",
  next_operator: "The first colleague didn't take it; asking another…",
  accepted: "Accepted by",
  returned: "Nobody could take the chat; it stays with you.",
  cancelled: "Transfer cancelled; the chat stays with you.",
};
const MARKER_RE = /\[\[[^\]\n]+\]\]|\{[a-z_]+(?:\.[a-z_]+)*\}|_{3,}/g;

const state = {
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
const ui = {};

function loadRead() {
  try {
    return JSON.parse(sessionStorage.getItem(READ_KEY) || "{}");
  } catch (err) {
    return {};
  }
}

function saveRead() {
  sessionStorage.setItem(READ_KEY, JSON.stringify(state.read));
}

// --- boot and sign in ----------------------------------------------------------------------

function boot() {
  const session = loadSession(SESSION_KEY);
  if (session && session.token) start(session);
  else showLogin();
}

function showLogin(message) {
  stopConnection();
  const app = document.getElementById("app");
  app.className = "";
  replace(app, loginCard({
    title: "Sign in to the console",
    subtitle: "Chat with visitors, with their history and reply suggestions beside you.",
    onSignedIn: (data) => {
      saveSession(SESSION_KEY, { token: data.token, operator: data.operator, wanted: "offline" });
      start(loadSession(SESSION_KEY));
    },
  }));
  if (message) {
    const error = document.getElementById("login-error");
    if (error) error.textContent = message;
  }
}

function signOut(message) {
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

function start(session) {
  state.session = session;
  state.me = session.operator;
  state.wanted = session.wanted || "offline";
  state.notify = Boolean(session.notify) && "Notification" in window && Notification.permission === "granted";
  buildLayout();
  connect();
  pollQueue();
  loadTypes();
}

function remember() {
  saveSession(SESSION_KEY, { ...state.session, operator: state.me, wanted: state.wanted, notify: state.notify });
}

// --- layout --------------------------------------------------------------------------------

function buildLayout() {
  const app = document.getElementById("app");
  app.className = "console";
  ui.statusButtons = {};
  const statusSwitch = h("div", { class: "status-switch", role: "radiogroup", "aria-label": "Your status" },
    ["online", "away", "offline"].map((status) => {
      const button = h("button", {
        type: "button", role: "radio", class: "status-opt", dataset: { status },
        "aria-checked": "false", title: statusTitle(status),
        onclick: () => setStatus(status),
      }, h("span", { class: ["dot", status] }), h("span", { class: "label", text: cap(status) }));
      ui.statusButtons[status] = button;
      return button;
    }));
  ui.conn = h("span", { class: "conn", role: "status", "aria-live": "polite" });
  ui.queuePill = h("button", { class: "queue-pill", type: "button", title: "Visitors waiting for an operator", onclick: () => { setTab("list"); ui.queueList.focus(); } });
  ui.bell = h("button", { class: "icon-btn bell", type: "button", onclick: toggleNotifications });
  const help = h("button", { class: "icon-btn", type: "button", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", onclick: showHelp }, "?");
  const who = h("div", { class: "who" }, h("span", { text: state.me ? state.me.name : "" }), h("small", { id: "me-title", text: state.me && state.me.role !== "operator" ? state.me.role : "" }));
  const signOutButton = h("button", { class: "btn small", type: "button", onclick: () => signOut() }, "Sign out");
  const adminLink = state.me && state.me.role === "admin" ? h("a", { class: "btn small", href: "/admin" }, "Admin") : null;
  const bar = h("header", { class: "appbar" },
    h("div", { class: "brand-row" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name", text: "Chatdesk" })),
    statusSwitch, ui.conn, h("span", { class: "spacer" }), ui.queuePill, ui.bell, help, adminLink, who, signOutButton);

  ui.tabs = {};
  const tabs = h("nav", { class: "tabs", role: "tablist", "aria-label": "Panes" },
    [["list", "Chats"], ["chat", "Chat"], ["customer", "Customer"], ["replies", "Replies"]].map(([id, label]) => {
      const button = h("button", { type: "button", role: "tab", class: "tab", dataset: { tab: id }, "aria-selected": "false", onclick: () => setTab(id) },
        h("span", { text: label }), h("span", { class: "count hidden" }));
      ui.tabs[id] = button;
      return button;
    }));

  ui.offers = h("div", { class: "offers", "aria-live": "polite" });
  ui.chatList = h("ul", { class: "chat-list", id: "chat-list", "aria-label": "My chats" });
  ui.chatCount = h("span", { class: "muted small" });
  ui.queueList = h("ul", { class: "queue-list", id: "queue-list", tabindex: "-1", "aria-label": "Waiting visitors" });
  ui.queueCount = h("span", { class: "muted small" });
  const list = h("aside", { class: "col col-list", id: "pane-list" },
    ui.offers,
    h("section", { class: "list-section" }, h("div", { class: "section-head" }, h("h2", { text: "My chats" }), ui.chatCount), ui.chatList),
    h("section", { class: "list-section" }, h("div", { class: "section-head" }, h("h2", { text: "Waiting" }), ui.queueCount), ui.queueList));

  ui.chatPane = h("main", { class: "col col-chat", id: "pane-chat" });
  ui.replies = h("section", { class: "side-card replies", id: "pane-replies", "aria-label": "Suggested replies" });
  ui.customer = h("section", { class: "side-card customer", id: "pane-customer", "aria-label": "Customer" });
  const side = h("aside", { class: "col col-side", id: "pane-side" }, ui.replies, ui.customer);

  replace(app, bar, tabs, h("div", { class: "workspace" }, list, ui.chatPane, side));
  buildChatPane();
  setTab(state.tab);
  renderStatus();
  renderBell();
  renderAll();
}

function buildChatPane() {
  ui.chatHead = h("div", { class: "chat-head" });
  ui.banners = h("div", { class: "banners" });
  ui.log = h("ol", { class: "log", id: "log", "aria-live": "polite", "aria-label": "Conversation" });
  ui.typing = h("div", { class: "typing hidden", "aria-live": "polite" }, h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span", { text: "Visitor is typing…" }));
  ui.popup = h("div", { class: "lib-popup hidden", id: "lib-popup", role: "listbox", "aria-label": "Replies from the library" });
  ui.backdrop = h("div", { class: "backdrop", "aria-hidden": "true" });
  ui.input = h("textarea", {
    id: "composer", rows: "2", placeholder: "Write a reply…  Enter sends, Shift+Enter for a new line, / for saved replies",
    "aria-label": "Reply", autocomplete: "off", spellcheck: "true",
  });
  ui.slotBar = h("div", { class: "slot-bar" });
  ui.sendError = h("div", { class: "send-error hidden", role: "alert", id: "send-error" });
  ui.send = h("button", { class: "btn primary send", type: "button", id: "send", onclick: sendDraft }, "Send");
  const composer = h("div", { class: "composer" },
    ui.popup,
    ui.sendError,
    h("div", { class: "composer-box" }, ui.backdrop, ui.input),
    h("div", { class: "composer-foot" }, ui.slotBar, h("span", { class: "hint small muted", text: "/ saved replies · Tab next blank" }), ui.send));
  ui.chatBody = h("div", { class: "chat-body" }, ui.chatHead, ui.banners, ui.log, ui.typing, composer);
  ui.chatEmpty = h("div", { class: "chat-empty" });
  replace(ui.chatPane, ui.chatEmpty, ui.chatBody);

  ui.input.addEventListener("input", onComposerInput);
  ui.input.addEventListener("keydown", onComposerKey);
  ui.input.addEventListener("scroll", () => { ui.backdrop.scrollTop = ui.input.scrollTop; });
  ui.input.addEventListener("blur", () => setTimeout(() => { if (!ui.popup.contains(document.activeElement)) hidePopup(); }, 150));
}

function cap(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function statusTitle(status) {
  return { online: "Online: new chats come to you", away: "Away: keep your chats, no new ones", offline: "Offline: no new chats" }[status];
}

function setTab(tab) {
  state.tab = tab;
  document.body.dataset.tab = tab;
  for (const [id, button] of Object.entries(ui.tabs || {})) button.setAttribute("aria-selected", String(id === tab));
  if (tab === "chat" && state.active) markRead(state.chats.get(state.active));
}

// --- connection ----------------------------------------------------------------------------

function connect() {
  stopConnection(false);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/operator`;
  const ws = new WebSocket(url);
  state.ws = ws;
  renderConn("Connecting…");
  ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "hello", token: state.session.token })));
  ws.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    try {
      onFrame(frame);
    } catch (err) {
      console.error("frame", frame, err);
    }
  });
  ws.addEventListener("close", (event) => {
    if (state.ws !== ws) return;
    state.connected = false;
    state.status = "offline";
    renderStatus();
    if (event.code === 4401) {
      signOut("Your session has ended (signed out or the account was turned off). Sign in again.");
      return;
    }
    const delay = Math.min(15000, 1000 * 2 ** state.retry);
    state.retry += 1;
    renderConn(`Connection lost · retrying in ${Math.round(delay / 1000)} s`);
    state.retryTimer = setTimeout(connect, delay);
  });
}

function stopConnection(stopPolling = true) {
  clearTimeout(state.retryTimer);
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    try {
      ws.close();
    } catch (err) {
      /* already closed */
    }
  }
  if (stopPolling) {
    clearTimeout(state.queueTimer);
    state.queueTimer = null;
  }
}

function sendFrame(frame) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.connected) return false;
  state.ws.send(JSON.stringify(frame));
  return true;
}

function renderConn(text) {
  if (!ui.conn) return;
  ui.conn.textContent = text || "";
  ui.conn.classList.toggle("hidden", !text);
}

function setStatus(status) {
  state.wanted = status;
  remember();
  if (!sendFrame({ type: "status", status })) toast("Not connected yet; your status is set when the connection is back.");
  renderStatus();
}

function renderStatus() {
  if (!ui.statusButtons) return;
  for (const [status, button] of Object.entries(ui.statusButtons)) {
    const on = status === state.status;
    button.setAttribute("aria-checked", String(on));
    button.classList.toggle("on", on);
    button.classList.toggle("wanted", status === state.wanted && !on);
  }
  renderEmpty();
}

// --- frames --------------------------------------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      state.connected = true;
      state.retry = 0;
      state.me = { ...state.me, ...frame.operator };
      remember();
      renderConn("");
      sendFrame({ type: "status", status: state.wanted });
      reconcileAfterReconnect();
      break;
    case "status":
      state.status = frame.status;
      renderStatus();
      renderList();
      pollQueue();
      break;
    case "assigned":
      onAssigned(frame);
      break;
    case "message":
      onMessage(frame);
      break;
    case "ack":
      onAck(frame);
      break;
    case "typing":
      onTyping(frame);
      break;
    case "released":
    case "closed":
      onEnded(frame);
      break;
    case "suggestions":
      onSuggestions(frame);
      break;
    case "library_results":
      onLibraryResults(frame);
      break;
    case "page":
      onPage(frame);
      break;
    case "transfer_status":
      onTransferStatus(frame);
      break;
    case "transfer_offer":
      onTransferOffer(frame);
      break;
    case "transfer_offer_withdrawn":
      onOfferWithdrawn(frame);
      break;
    case "nudge":
      onNudge(frame);
      break;
    case "message_left":
      onMessageLeft(frame);
      break;
    case "error":
      onError(frame);
      break;
    default:
      break;
  }
}

// After a reconnect the server briefs us again on every chat we still hold; a chat it does not
// mention within a few seconds left us while we were away (grace period over, or closed).
function reconcileAfterReconnect() {
  state.generation = (state.generation || 0) + 1;
  const generation = state.generation;
  clearTimeout(state.reconcileTimer);
  state.reconcileTimer = setTimeout(() => {
    if (generation !== state.generation) return;
    let changed = false;
    for (const chat of state.chats.values()) {
      if (!chat.ended && (chat.generation || 0) < generation) {
        chat.ended = "released";
        changed = true;
      }
    }
    if (changed) renderAll();
  }, 5000);
}

function newChat(cid) {
  return {
    id: cid,
    visitor: null,
    customer: null,
    messages: [],
    bySeq: new Map(),
    draft: "",
    typingUntil: 0,
    suggestions: null,
    ended: null,
    transfer: null,
    nudge: null,
    leftMessage: false,
    lastTs: Date.now() / 1000,
  };
}

function onAssigned(frame) {
  const cid = frame.conversation_id;
  setTimeout(pollQueue, 200);
  let chat = state.chats.get(cid);
  const isNew = !chat || chat.ended;
  if (!chat || chat.ended) {
    chat = newChat(cid);
    state.chats.set(cid, chat);
  }
  chat.generation = state.generation || 0;
  chat.visitor = frame.visitor || chat.visitor;
  chat.customer = frame.customer || chat.customer;
  chat.ended = null;
  chat.transfer = chat.transfer && ["accepted", "returned", "cancelled"].includes(chat.transfer.status) ? null : chat.transfer;
  touchOrder(cid);
  if (isNew) {
    notify("New chat", `${chatName(chat)} is now yours.`);
    if (!state.active || !state.chats.has(state.active) || state.chats.get(state.active).ended) selectChat(cid, { focus: false });
  }
  // Messages still unacknowledged from before a reconnect go again; the server keeps one copy.
  for (const msg of chat.messages) {
    if (msg.status === "pending") sendFrame({ type: "message", conversation_id: cid, client_id: msg.client_id, text: msg.text });
  }
  renderAll();
}

function onMessage(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (chat.bySeq.has(frame.seq)) return;
  let msg = frame.client_id ? chat.messages.find((m) => m.client_id === frame.client_id && m.status !== "sent") : null;
  if (msg) {
    Object.assign(msg, frame, { status: "sent" });
  } else {
    msg = { ...frame, status: frame.sender === "operator" ? "sent" : undefined };
    chat.messages.push(msg);
  }
  chat.bySeq.set(frame.seq, msg);
  chat.messages.sort(bySeq);
  chat.lastTs = frame.ts || chat.lastTs;
  if (frame.sender === "visitor") {
    chat.typingUntil = 0;
    if (isViewing(chat)) markRead(chat);
    else notify(chatName(chat), frame.text);
  }
  if (frame.sender === "operator" && chat.nudge && chat.nudge.stage !== "holding_line") chat.nudge = null;
  touchOrder(chat.id);
  if (chat.id === state.active) {
    renderLog(chat);
    renderBanners(chat);
  }
  renderList();
  renderTitle();
}

function bySeq(a, b) {
  const x = a.seq === undefined || a.seq === null ? Infinity : a.seq;
  const y = b.seq === undefined || b.seq === null ? Infinity : b.seq;
  return x - y;
}

function onAck(frame) {
  const cid = state.pending.get(frame.client_id);
  state.pending.delete(frame.client_id);
  const chat = state.chats.get(cid);
  if (!chat) return;
  const msg = chat.messages.find((m) => m.client_id === frame.client_id);
  if (msg && msg.status !== "sent") {
    msg.status = "sent";
    msg.seq = frame.seq;
    msg.message_id = frame.message_id;
    chat.bySeq.set(frame.seq, msg);
    chat.messages.sort(bySeq);
  }
  chat.nudge = null;
  if (cid === state.active) {
    renderLog(chat);
    renderBanners(chat);
  }
  renderList();
}

function onTyping(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat || frame.from !== "visitor") return;
  chat.typingUntil = frame.on ? Date.now() + TYPING_SHOW_MS : 0;
  renderTyping();
  renderList();
  if (frame.on) setTimeout(() => { renderTyping(); renderList(); }, TYPING_SHOW_MS + 50);
}

function onEnded(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (frame.type === "closed") chat.ended = "closed";
  else if (!chat.ended) chat.ended = chat.transfer && chat.transfer.status === "accepted" ? "transferred" : "released";
  chat.typingUntil = 0;
  chat.nudge = null;
  for (const msg of chat.messages) if (msg.status === "pending") msg.status = "failed";
  renderAll();
}

function onSuggestions(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (chat.suggestions && chat.suggestions.seq > frame.seq) return;
  chat.suggestions = frame;
  if (chat.id === state.active) renderReplies();
  renderTabCounts();
}

function onPage(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (chat.customer) chat.customer.page = { url: frame.url, title: frame.title, ts: frame.ts };
  if (chat.id === state.active) renderCustomer();
}

function onError(frame) {
  const cid = frame.client_id ? state.pending.get(frame.client_id) : undefined;
  if (cid !== undefined) {
    state.pending.delete(frame.client_id);
    const chat = state.chats.get(cid);
    if (chat) {
      const msg = chat.messages.find((m) => m.client_id === frame.client_id);
      chat.messages = chat.messages.filter((m) => m !== msg);
      if (msg) {
        // Nothing was sent: the text goes back to the composer so it can be fixed.
        if (!chat.draft.trim() || chat.id !== state.active) chat.draft = msg.text;
        chat.sendError = { code: frame.code, message: frame.message };
        if (chat.id === state.active) {
          if (!ui.input.value.trim()) ui.input.value = msg.text;
          renderLog(chat);
          renderComposer(chat);
          if (frame.code === "unfilled_slot") selectMarker(0);
        }
      }
    }
    return;
  }
  const aboutTransfer = frame.conversation_id === undefined || frame.conversation_id === null;
  if (ui.transferDialog && (frame.conversation_id === ui.transferDialog.cid || aboutTransfer)) {
    ui.transferDialog.onError(frame);
    return;
  }
  if (frame.code === "no_transfer_offer") {
    state.offers.delete(frame.conversation_id);
    renderOffers();
  }
  toast(errorText(frame), "error", 6000);
}

function errorText(frame) {
  const known = {
    not_your_conversation: "That chat is no longer yours.",
    assistant_off: "Reply suggestions are switched off on this server.",
    no_transfer_offer: "That transfer is no longer offered to you.",
    no_transfer: "That chat is not being transferred.",
  };
  return known[frame.code] || frame.message || frame.code;
}

// --- transfers, nudges, left messages ---------------------------------------------------------

function onTransferStatus(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.transfer = { ...(chat.transfer || {}), ...frame };
  if (ui.transferDialog && ui.transferDialog.cid === chat.id) ui.transferDialog.done();
  if (frame.status === "returned") toast("Nobody could take the transfer; the chat stays with you.", "info", 6000);
  if (["returned", "cancelled"].includes(frame.status)) setTimeout(() => {
    if (chat.transfer && chat.transfer.status === frame.status) {
      chat.transfer = null;
      if (chat.id === state.active) renderBanners(chat);
      renderList();
    }
  }, 8000);
  if (chat.id === state.active) renderBanners(chat);
  renderList();
}

function onTransferOffer(frame) {
  state.offers.set(frame.conversation_id, { ...frame, expiresAt: Date.now() + (frame.expires_in_s || 30) * 1000 });
  notify("Transfer request", `${frame.from ? frame.from.name : "A colleague"} asks you to take a chat: ${frame.reason}`);
  renderOffers();
  renderTitle();
}

function onOfferWithdrawn(frame) {
  const offer = state.offers.get(frame.conversation_id);
  state.offers.delete(frame.conversation_id);
  if (offer && frame.reason === "expired") toast("A transfer offer expired before you answered.");
  renderOffers();
  renderTitle();
}

function onNudge(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.nudge = { ...frame, at: Date.now() };
  if (frame.stage === "nudge") notify("A visitor is waiting", `${chatName(chat)} has waited ${duration(frame.waited_s)} for your reply.`);
  if (chat.id === state.active) renderBanners(chat);
  renderList();
}

function onMessageLeft(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.leftMessage = true;
  if (chat.id === state.active) renderBanners(chat);
  renderList();
}

// --- chats: selection, reading, order -------------------------------------------------------

function touchOrder(cid) {
  state.order = [cid, ...state.order.filter((id) => id !== cid)];
}

function isViewing(chat) {
  return chat.id === state.active && !document.hidden && (!PHONE.matches || state.tab === "chat");
}

function lastSeq(chat) {
  let seq = 0;
  for (const m of chat.messages) if (typeof m.seq === "number" && m.seq > seq) seq = m.seq;
  return seq;
}

function unread(chat) {
  const read = state.read[chat.id] || 0;
  return chat.messages.filter((m) => m.sender === "visitor" && m.seq > read).length;
}

function markRead(chat) {
  if (!chat) return;
  const seq = lastSeq(chat);
  if ((state.read[chat.id] || 0) < seq) {
    state.read[chat.id] = seq;
    saveRead();
    renderList();
    renderTitle();
  }
}

function chatName(chat) {
  const c = chat.customer;
  if (c && c.name) return c.name;
  const locale = chat.visitor && chat.visitor.locale ? ` (${chat.visitor.locale})` : "";
  return `Visitor #${chat.id}${locale}`;
}

function initials(name) {
  const parts = name.replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function selectChat(cid, { focus = true } = {}) {
  const previous = state.chats.get(state.active);
  if (previous && ui.input) previous.draft = ui.input.value;
  state.active = cid;
  hidePopup();
  const chat = state.chats.get(cid);
  if (PHONE.matches && focus) setTab("chat");
  renderAll();
  if (chat) {
    if (isViewing(chat)) markRead(chat);
    if (focus && !chat.ended) ui.input.focus();
  }
}

function moveSelection(step) {
  const ids = state.order.filter((id) => state.chats.has(id));
  if (!ids.length) return;
  const index = ids.indexOf(state.active);
  const next = ids[(index + step + ids.length) % ids.length];
  selectChat(next);
}

function dismissChat(cid) {
  state.chats.delete(cid);
  state.order = state.order.filter((id) => id !== cid);
  delete state.read[cid];
  saveRead();
  if (state.active === cid) {
    const next = state.order.find((id) => state.chats.has(id) && !state.chats.get(id).ended) || state.order.find((id) => state.chats.has(id));
    state.active = next === undefined ? null : next;
  }
  renderAll();
}

// --- rendering -----------------------------------------------------------------------------

function renderAll() {
  if (!ui.chatList) return;
  renderList();
  renderQueue();
  renderOffers();
  renderChat();
  renderReplies();
  renderCustomer();
  renderTitle();
}

function renderTitle() {
  let total = state.offers.size;
  for (const chat of state.chats.values()) if (!chat.ended) total += unread(chat);
  document.title = total ? `(${total}) Chatdesk · Console` : "Chatdesk · Console";
  renderTabCounts();
}

function renderTabCounts() {
  if (!ui.tabs) return;
  let listCount = state.offers.size;
  for (const chat of state.chats.values()) if (!chat.ended && chat.id !== state.active) listCount += unread(chat);
  const active = state.chats.get(state.active);
  const counts = {
    list: listCount,
    chat: active && !active.ended ? unread(active) : 0,
    customer: 0,
    replies: active && active.suggestions ? active.suggestions.items.length : 0,
  };
  for (const [id, button] of Object.entries(ui.tabs)) {
    const badge = button.querySelector(".count");
    badge.textContent = String(counts[id]);
    badge.classList.toggle("hidden", !counts[id]);
    badge.classList.toggle("soft", id === "replies");
  }
}

function renderList() {
  const ids = state.order.filter((id) => state.chats.has(id));
  const open = ids.filter((id) => !state.chats.get(id).ended).length;
  ui.chatCount.textContent = state.me && state.me.capacity !== undefined ? `${open} of ${state.me.capacity}` : String(open);
  if (!ids.length) {
    replace(ui.chatList, h("li", { class: "list-empty" }, state.status === "online" ? "No chats yet. New chats appear here." : [
      h("span", { text: `You're ${state.status}. ` }),
      h("button", { class: "btn small primary go-online", type: "button", id: "go-online-list", onclick: () => setStatus("online") }, "Go online")]));
    renderTitle();
    return;
  }
  replace(ui.chatList, ids.map((id) => chatItem(state.chats.get(id))));
}

function chatItem(chat) {
  const name = chatName(chat);
  const last = [...chat.messages].reverse().find((m) => m.sender !== "system") || chat.messages[chat.messages.length - 1];
  const count = chat.ended ? 0 : unread(chat);
  let preview = last ? (last.sender === "operator" ? "You: " : "") + last.text : "No messages yet";
  let previewClass = "preview";
  if (chat.typingUntil > Date.now()) {
    preview = "typing…";
    previewClass = "preview typing-text";
  }
  const flags = [];
  if (chat.ended) flags.push(h("span", { class: "badge", text: { closed: "Closed", released: "Left you", transferred: "Transferred" }[chat.ended] }));
  if (chat.nudge && !chat.ended) flags.push(h("span", { class: "badge bad", title: "The visitor is waiting for your reply", text: `⏱ ${duration(chat.nudge.waited_s)}` }));
  if (chat.transfer && !chat.ended && !["returned", "cancelled"].includes(chat.transfer.status)) flags.push(h("span", { class: "badge warn", text: "Transferring" }));
  if (chat.leftMessage && !chat.ended) flags.push(h("span", { class: "badge brand", text: "Left a message" }));
  const segment = chat.customer && chat.customer.segment;
  const button = h("button", {
    type: "button", class: "chat-item-btn", "aria-current": chat.id === state.active ? "true" : "false",
    onclick: () => selectChat(chat.id),
  },
  h("span", { class: "avatar", "aria-hidden": "true", text: initials(name) }),
  h("span", { class: "item-main" },
    h("span", { class: "item-top" }, h("span", { class: "item-name", text: name }),
      segment ? h("span", { class: ["badge", "segment", segment], title: SEGMENTS[segment], text: segment }) : null,
      h("span", { class: "item-time", text: last && last.ts ? clock(last.ts) : "" })),
    h("span", { class: "item-bottom" }, h("span", { class: previewClass, text: preview }),
      count ? h("span", { class: "count", "aria-label": `${count} unread`, text: String(count) }) : null),
    flags.length ? h("span", { class: "item-flags" }, flags) : null));
  const li = h("li", { class: ["chat-item", chat.id === state.active && "active", chat.ended && "ended", count && "unread"], dataset: { cid: String(chat.id) } }, button);
  if (chat.ended) {
    li.appendChild(h("button", { class: "icon-btn dismiss", type: "button", "aria-label": `Remove ${name} from the list`, title: "Remove from the list", onclick: () => dismissChat(chat.id) }, "✕"));
  }
  return li;
}

function renderQueue() {
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
      h("span", { class: "q-sub muted small", text: `waiting ${duration(w.waiting_s)} · told ${w.estimated_wait_s === null ? "no estimate" : "≈ " + duration(w.estimated_wait_s)}` })),
  )));
}

function renderOffers() {
  if (!ui.offers) return;
  clearInterval(ui.offerTimer);
  if (!state.offers.size) {
    clear(ui.offers);
    renderTabCounts();
    return;
  }
  replace(ui.offers, [...state.offers.values()].map((offer) => {
    const visitorName = offer.customer && offer.customer.name ? offer.customer.name : `Visitor (${(offer.visitor && offer.visitor.locale) || "?"})`;
    return h("div", { class: "offer", role: "group", "aria-label": "Transfer request", dataset: { cid: String(offer.conversation_id) } },
      h("div", { class: "offer-top" }, h("strong", { text: `${offer.from ? offer.from.name : "A colleague"} asks you to take over` }),
        h("span", { class: "offer-left", title: "Time left to answer" })),
      h("p", { class: "offer-line" }, h("span", { class: "muted", text: "Visitor: " }), visitorName),
      h("p", { class: "offer-line" }, h("span", { class: "muted", text: "Why: " }), offer.reason),
      h("p", { class: "offer-line" }, h("span", { class: "muted", text: "Gain: " }), offer.benefit),
      h("div", { class: "offer-actions" },
        h("button", { class: "btn small primary", type: "button", onclick: () => answerOffer(offer, true) }, "Accept"),
        h("button", { class: "btn small", type: "button", onclick: () => answerOffer(offer, false) }, "Decline"),
        h("button", { class: "btn small ghost", type: "button", onclick: () => showOfferTranscript(offer) }, "Read chat")));
  }));
  renderOffersTimes();
  ui.offerTimer = setInterval(() => {
    let expired = false;
    for (const offer of state.offers.values()) {
      if (offer.expiresAt < Date.now() - 2000) {
        state.offers.delete(offer.conversation_id);
        expired = true;
      }
    }
    if (expired) renderOffers();
    else renderOffersTimes();
  }, 1000);
  renderTabCounts();
}

function renderOffersTimes() {
  for (const node of ui.offers.querySelectorAll(".offer")) {
    const offer = state.offers.get(Number(node.dataset.cid));
    const left = node.querySelector(".offer-left");
    if (offer && left) left.textContent = `${Math.max(0, Math.round((offer.expiresAt - Date.now()) / 1000))} s`;
  }
}

function answerOffer(offer, accept) {
  sendFrame({ type: accept ? "transfer_accept" : "transfer_decline", conversation_id: offer.conversation_id });
  state.offers.delete(offer.conversation_id);
  renderOffers();
  renderTitle();
}

function showOfferTranscript(offer) {
  const log = h("ol", { class: "log transcript" }, (offer.transcript || []).map(messageItem));
  modal({ title: `Chat offered by ${offer.from ? offer.from.name : "a colleague"}`, body: log, className: "wide" });
}

function renderEmpty() {
  if (!ui.chatEmpty) return;
  const online = state.status === "online";
  replace(ui.chatEmpty, h("div", { class: "empty big" },
    h("div", { class: "empty-art", "aria-hidden": "true" }),
    h("strong", { text: online ? "You're online" : "You're " + state.status }),
    h("p", { text: online ? "New chats open here as soon as a visitor writes." : "Go online to start receiving chats." }),
    online ? null : h("button", { class: "btn primary go-online", type: "button", id: "go-online", onclick: () => setStatus("online") }, "Go online")));
}

function renderChat() {
  const chat = state.chats.get(state.active);
  ui.chatEmpty.classList.toggle("hidden", Boolean(chat));
  ui.chatBody.classList.toggle("hidden", !chat);
  if (!chat) {
    renderEmpty();
    return;
  }
  renderHead(chat);
  renderBanners(chat);
  renderLog(chat);
  renderTyping();
  ui.input.value = chat.draft || "";
  renderComposer(chat);
}

function renderHead(chat) {
  const c = chat.customer || {};
  const name = chatName(chat);
  const meta = [];
  if (c.segment) meta.push(h("span", { class: ["badge", "segment", c.segment], title: SEGMENTS[c.segment], text: `Segment ${c.segment}` }));
  if (c.type) meta.push(h("span", { class: "badge brand", title: c.type.hint, text: c.type.name }));
  if (c.anonymous) meta.push(h("span", { class: "badge", text: "Anonymous" }));
  if (c.first_contact) meta.push(h("span", { class: "badge ok", text: "First contact" }));
  const locale = chat.visitor && chat.visitor.locale;
  if (locale) meta.push(h("span", { class: "badge", title: "Visitor's language", text: locale.toUpperCase() }));
  const transferring = chat.transfer && !["returned", "cancelled", "accepted"].includes(chat.transfer.status);
  replace(ui.chatHead,
    h("span", { class: "avatar big", "aria-hidden": "true", text: initials(name) }),
    h("div", { class: "head-main" }, h("h1", { class: "head-name", id: "chat-title", text: name }),
      h("div", { class: "head-meta" }, c.email ? h("span", { class: "muted small", text: c.email }) : null, meta)),
    h("div", { class: "head-actions" },
      h("button", { class: "btn", type: "button", id: "transfer-btn", disabled: Boolean(chat.ended || transferring), title: "Transfer to a colleague or team (Alt+T)", onclick: () => openTransfer(chat) }, "Transfer"),
      h("button", { class: "btn danger", type: "button", id: "close-btn", disabled: Boolean(chat.ended), title: "Close the chat", onclick: () => closeChat(chat) }, "Close")));
}

function renderBanners(chat) {
  const items = [];
  if (chat.ended) {
    const text = { closed: "This chat is closed.", released: "This chat left you (it went back to the queue or to a colleague).", transferred: "You transferred this chat." }[chat.ended];
    items.push(h("div", { class: "banner muted-banner" }, h("span", { text }),
      h("button", { class: "btn small", type: "button", onclick: () => dismissChat(chat.id) }, "Remove from list")));
  }
  if (chat.nudge && !chat.ended) {
    const holding = chat.nudge.stage === "holding_line";
    items.push(h("div", { class: "banner bad-banner", role: "alert", id: "nudge" },
      h("strong", { text: holding ? "A holding line was sent for you. " : "The visitor is waiting for your reply. " }),
      h("span", { text: holding ? `The visitor read: “${chat.nudge.text || ""}” Reply as soon as you can.` : `No reply for ${duration(chat.nudge.waited_s)}. Even “I'm checking, one moment” helps.` })));
  }
  if (chat.leftMessage && !chat.ended) {
    items.push(h("div", { class: "banner info-banner" }, h("span", { text: "The visitor left a message instead of waiting: answer here; they will see it when they come back." })));
  }
  const t = chat.transfer;
  if (t && !chat.ended) {
    let text = TRANSFER_STATUS[t.status] || t.status;
    if (t.to && ["offered", "queued", "accepted"].includes(t.status)) text += " " + (t.to.name || t.to.team || "");
    if (t.status === "offering" && t.to) text = `Asking ${t.to.name || t.to.team}…`;
    const live = !["returned", "cancelled", "accepted"].includes(t.status);
    const wait = t.estimated_wait_s !== undefined && t.estimated_wait_s !== null ? ` · visitor told ≈ ${waitText(t)}` : "";
    items.push(h("div", { class: ["banner", live ? "warn-banner" : "info-banner"], id: "transfer-banner" },
      h("div", { class: "banner-main" }, h("strong", { text: text + wait }),
        t.text ? h("span", { class: "small", text: `The visitor read: “${t.text}”` }) : null),
      live ? h("button", { class: "btn small", type: "button", onclick: () => sendFrame({ type: "transfer_cancel", conversation_id: chat.id }) }, "Cancel transfer") : null));
  }
  replace(ui.banners, items);
}

function waitText(figures) {
  // An estimate with its range, as the visitor was told it: "≈ 2 min (at most 5 min)".
  let text = duration(figures.estimated_wait_s);
  if (figures.high_s !== undefined && figures.high_s !== null && figures.high_s > figures.estimated_wait_s) text += ` (at most ${duration(figures.high_s)})`;
  return text;
}

function messageItem(msg) {
  const sender = msg.sender || "system";
  const meta = [];
  if (sender === "operator") {
    if (msg.author && msg.author.name && (!state.me || msg.author.name !== state.me.name)) meta.push(msg.author.name + " · ");
    meta.push(msg.ts ? clock(msg.ts) : "");
    if (msg.status === "pending") meta.push(" · sending…");
    else if (msg.status === "failed") meta.push(" · not sent");
    else meta.push(" · ✓ delivered");
  } else if (msg.ts) meta.push(clock(msg.ts));
  return h("li", { class: ["msg", sender, msg.status], dataset: { seq: msg.seq === undefined || msg.seq === null ? "" : String(msg.seq) } },
    h("div", { class: "bubble", text: msg.text }),
    h("div", { class: "meta", text: meta.join("") }));
}

function renderLog(chat) {
  const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  const items = [];
  let lastDay = "";
  for (const msg of chat.messages) {
    const d = msg.ts ? day(msg.ts) : "";
    if (d && d !== lastDay) {
      items.push(h("li", { class: "day", text: d }));
      lastDay = d;
    }
    items.push(messageItem(msg));
  }
  if (!items.length) items.push(h("li", { class: "day", text: "No messages yet" }));
  replace(ui.log, items);
  if (nearBottom || chat.scrollToEnd !== false) ui.log.scrollTop = ui.log.scrollHeight;
}

function renderTyping() {
  const chat = state.chats.get(state.active);
  const on = Boolean(chat && chat.typingUntil > Date.now());
  ui.typing.classList.toggle("hidden", !on);
}

// --- composer ------------------------------------------------------------------------------

let typingSentAt = 0;
let typingIdle = null;

function markers(text) {
  const found = [];
  MARKER_RE.lastIndex = 0;
  let m;
  while ((m = MARKER_RE.exec(text))) found.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  return found;
}

function markerName(text) {
  if (text.startsWith("[[")) return text.slice(2, -2);
  if (text.startsWith("{")) return text.slice(1, -1);
  return "blank";
}

function renderComposer(chat) {
  const text = ui.input.value;
  const found = markers(text);
  const bad = chat && chat.sendError && chat.sendError.code === "unfilled_slot";
  // The backdrop mirrors the text, with the blanks marked; the transparent textarea sits on top.
  const parts = [];
  let at = 0;
  for (const m of found) {
    parts.push(text.slice(at, m.start));
    parts.push(h("mark", { class: ["slot", bad && "bad"], text: m.text }));
    at = m.end;
  }
  parts.push(text.slice(at) + "\n");
  replace(ui.backdrop, parts);
  ui.backdrop.scrollTop = ui.input.scrollTop;
  replace(ui.slotBar, found.length ? [h("span", { class: "small muted", text: "Fill:" }),
    found.map((m, index) => h("button", { type: "button", class: ["slot-chip", bad && "bad"], title: "Select this blank (Tab)", onclick: () => selectMarker(index) }, markerName(m.text)))] : []);
  const ended = !chat || Boolean(chat.ended);
  ui.input.disabled = ended;
  ui.send.disabled = ended || !text.trim();
  if (chat && chat.sendError) {
    const e = chat.sendError;
    const message = e.code === "unfilled_slot"
      ? `Not sent: fill the highlighted blanks first (${e.message.replace(/^fill these before sending: /, "")}).`
      : `Not sent: ${e.message || e.code}`;
    ui.sendError.textContent = message;
    ui.sendError.classList.remove("hidden");
  } else {
    ui.sendError.textContent = "";
    ui.sendError.classList.add("hidden");
  }
  autoGrow();
}

function autoGrow() {
  ui.input.style.height = "auto";
  const height = Math.min(Math.max(ui.input.scrollHeight + 2, 64), PHONE.matches ? 140 : 200);
  ui.input.style.height = height + "px";
}

function selectMarker(index) {
  const found = markers(ui.input.value);
  if (!found.length) return false;
  const m = found[(index + found.length) % found.length];
  ui.input.focus();
  ui.input.setSelectionRange(m.start, m.end);
  return true;
}

function nextMarker(backwards) {
  const found = markers(ui.input.value);
  if (!found.length) return false;
  const pos = backwards ? ui.input.selectionStart : ui.input.selectionEnd;
  let index;
  if (backwards) {
    index = -1;
    found.forEach((m, i) => { if (m.end <= pos && !(m.start === ui.input.selectionStart && m.end === ui.input.selectionEnd)) index = i; });
    if (index < 0) index = found.length - 1;
  } else {
    index = found.findIndex((m) => m.start >= pos);
    if (index < 0) index = 0;
  }
  return selectMarker(index);
}

function onComposerInput() {
  const chat = state.chats.get(state.active);
  if (!chat) return;
  chat.draft = ui.input.value;
  if (chat.sendError && chat.sendError.code !== "unfilled_slot") chat.sendError = null;
  if (chat.sendError && !markers(ui.input.value).length) chat.sendError = null;
  renderComposer(chat);
  const now = Date.now();
  if (ui.input.value && now - typingSentAt > TYPING_SEND_MS) {
    typingSentAt = now;
    sendFrame({ type: "typing", conversation_id: chat.id, on: true });
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(() => stopTyping(chat.id), TYPING_IDLE_MS);
  updatePopupFromCaret();
}

function stopTyping(cid) {
  if (typingSentAt) {
    typingSentAt = 0;
    const chat = state.chats.get(cid);
    if (chat && !chat.ended) sendFrame({ type: "typing", conversation_id: cid, on: false });
  }
}

function onComposerKey(event) {
  if (!ui.popup.classList.contains("hidden")) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      movePopup(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if ((event.key === "Enter" || event.key === "Tab") && state.popup && state.popup.items.length) {
      event.preventDefault();
      choosePopup(state.popup.index);
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      hidePopup();
      return;
    }
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendDraft();
    return;
  }
  if (event.key === "Tab" && !event.altKey && !event.ctrlKey && markers(ui.input.value).length) {
    if (nextMarker(event.shiftKey)) event.preventDefault();
  }
}

function newClientId() {
  if (window.crypto && crypto.randomUUID) return "op-" + crypto.randomUUID();
  return "op-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
}

function sendDraft() {
  const chat = state.chats.get(state.active);
  if (!chat || chat.ended) return;
  const text = ui.input.value;
  if (!text.trim()) return;
  const clientId = newClientId();
  const frame = { type: "message", conversation_id: chat.id, client_id: clientId, text };
  if (!sendFrame(frame)) {
    toast("Not connected: the message was not sent. It stays in the box.", "error");
    return;
  }
  state.pending.set(clientId, chat.id);
  chat.messages.push({ client_id: clientId, text, sender: "operator", ts: Date.now() / 1000, status: "pending", author: { name: state.me && state.me.name } });
  chat.sendError = null;
  chat.draft = "";
  ui.input.value = "";
  clearTimeout(typingIdle);
  stopTyping(chat.id);
  hidePopup();
  touchOrder(chat.id);
  renderLog(chat);
  renderComposer(chat);
  renderList();
}

function insertReply(text, { replaceFrom = null, append = false } = {}) {
  const chat = state.chats.get(state.active);
  if (!chat || chat.ended) return;
  const current = ui.input.value;
  let next;
  if (replaceFrom !== null) {
    next = current.slice(0, replaceFrom) + text + current.slice(ui.input.selectionEnd);
  } else if (append && current.trim()) {
    next = current.replace(/\s*$/, " ") + text;
  } else {
    next = text;
  }
  ui.input.value = next;
  chat.draft = next;
  chat.sendError = null;
  hidePopup();
  renderComposer(chat);
  if (PHONE.matches) setTab("chat");
  ui.input.focus();
  if (!selectMarker(0)) ui.input.setSelectionRange(next.length, next.length);
}

// --- "/" library popup ---------------------------------------------------------------------

function slashToken() {
  const caret = ui.input.selectionStart;
  if (caret !== ui.input.selectionEnd) return null;
  const before = ui.input.value.slice(0, caret);
  const m = /(^|\s)(\/[^\s/]*)$/.exec(before);
  return m ? { query: m[2], start: caret - m[2].length } : null;
}

const searchPopup = debounce((query) => {
  const chat = state.chats.get(state.active);
  state.search.popup = query;
  if (!sendFrame({ type: "library_search", query, conversation_id: chat ? chat.id : undefined })) hidePopup();
}, 120);

function updatePopupFromCaret() {
  const token = slashToken();
  if (!token) {
    hidePopup();
    return;
  }
  state.popup = { ...(state.popup || {}), start: token.start, query: token.query, items: (state.popup && state.popup.items) || [], index: 0 };
  showPopup(true);
  searchPopup(token.query);
}

function showPopup(loading) {
  ui.popup.classList.remove("hidden");
  ui.input.setAttribute("aria-expanded", "true");
  const p = state.popup;
  if (!p.items.length) {
    replace(ui.popup, h("div", { class: "pop-empty muted small", text: loading ? "Searching saved replies…" : `No saved reply starts with ${p.query}` }));
    return;
  }
  replace(ui.popup,
    h("div", { class: "pop-head small muted", text: "Saved replies · ↑↓ choose · Enter insert · Esc close" }),
    p.items.map((item, index) => h("button", {
      type: "button", role: "option", class: ["pop-item", index === p.index && "on"], "aria-selected": String(index === p.index),
      onmousedown: (event) => event.preventDefault(), onclick: () => choosePopup(index),
    },
    h("span", { class: "pop-title" }, h("strong", { text: item.title || item.response_id }), item.shortcut ? h("span", { class: "badge", text: item.shortcut }) : null,
      h("span", { class: "badge", text: (SITUATIONS[item.situation] || [item.situation])[0] })),
    h("span", { class: "pop-text" }, slotText(item.text)))));
}

function movePopup(step) {
  const p = state.popup;
  if (!p || !p.items.length) return;
  p.index = (p.index + step + p.items.length) % p.items.length;
  showPopup(false);
  const on = ui.popup.querySelector(".pop-item.on");
  if (on) on.scrollIntoView({ block: "nearest" });
}

function choosePopup(index) {
  const p = state.popup;
  if (!p || !p.items[index]) return;
  insertReply(p.items[index].text, { replaceFrom: p.start });
}

function hidePopup() {
  if (!ui.popup) return;
  ui.popup.classList.add("hidden");
  ui.input.setAttribute("aria-expanded", "false");
  state.popup = null;
  searchPopup.cancel();
}

function onLibraryResults(frame) {
  if (state.popup && frame.query === state.search.popup) {
    state.popup.items = frame.items || [];
    state.popup.index = 0;
    showPopup(false);
  }
  if (frame.query === state.search.panel && ui.libResults) {
    state.panelResults = frame.items || [];
    renderPanelResults();
  }
}

// --- suggestions panel ---------------------------------------------------------------------

function slotText(text) {
  const parts = [];
  const re = /\[\[([^\]\n]+)\]\]/g;
  let at = 0;
  let m;
  while ((m = re.exec(text))) {
    parts.push(text.slice(at, m.index));
    parts.push(h("mark", { class: "slot", text: m[1] }));
    at = m.index + m[0].length;
  }
  parts.push(text.slice(at));
  return parts;
}

function replyTitle(item) {
  if (item.title) return item.title;
  const what = String(item.response_id || "").split(".").slice(1).join(" ").replace(/[_-]+/g, " ").trim();
  return what ? what.charAt(0).toUpperCase() + what.slice(1) : (SITUATIONS[item.situation] || [item.situation])[0];
}

function replyCard(item, conversationLanguage, index) {
  const badges = [];
  if (item.missing && item.missing.length) badges.push(h("span", { class: "badge warn", title: "Fill these before sending", text: `${item.missing.length} to fill` }));
  if (conversationLanguage && item.language && item.language !== conversationLanguage) badges.push(h("span", { class: "badge", title: "No reply in the visitor's language; this one is a fallback", text: `${item.language.toUpperCase()} fallback` }));
  if (item.shortcut) badges.push(h("span", { class: "badge", text: item.shortcut }));
  return h("li", { class: "reply" },
    h("button", {
      type: "button", class: "reply-btn", dataset: { responseId: item.response_id, index: String(index) },
      title: "Put this reply in the box (Shift+click adds it after your text)",
      onclick: (event) => insertReply(item.text, { append: event.shiftKey }),
    },
    h("span", { class: "reply-top" }, h("strong", { class: "reply-title", text: replyTitle(item) }), badges,
      h("span", { class: "reply-use small", "aria-hidden": "true", text: "Insert" })),
    h("span", { class: "reply-text" }, slotText(item.text))));
}

function renderReplies() {
  const chat = state.chats.get(state.active);
  if (!chat) {
    replace(ui.replies, h("div", { class: "card-head" }, h("h2", { text: "Suggested replies" })),
      h("p", { class: "muted pad", text: "Suggestions appear when a visitor writes." }));
    return;
  }
  const s = chat.suggestions;
  const head = h("div", { class: "card-head" }, h("h2", { text: "Suggested replies" }),
    s && s.situation ? h("span", { class: "badge brand situation", id: "situation", title: "What the assistant recognised in the visitor's words", text: (SITUATIONS[s.situation] || [s.situation])[0] }) : null);
  const body = [];
  if (s && s.situation && SITUATIONS[s.situation] && SITUATIONS[s.situation][1]) {
    body.push(h("p", { class: "tip small" }, h("strong", { text: "How: " }), SITUATIONS[s.situation][1]));
  }
  if (s && s.items && s.items.length) {
    body.push(h("ol", { class: "reply-list", id: "suggestions" }, s.items.map((item, i) => replyCard(item, s.language, i))));
  } else {
    body.push(h("p", { class: "muted pad", text: chat.ended ? "This chat has ended." : "Suggestions appear after the visitor's next message." }));
  }
  ui.libSearch = h("input", { type: "search", id: "lib-search", placeholder: "Search saved replies…", title: "Words or a /shortcut", "aria-label": "Search saved replies", value: state.panelQuery || "" });
  ui.libResults = h("ol", { class: "reply-list", id: "lib-results" });
  ui.libSearch.addEventListener("input", () => {
    state.panelQuery = ui.libSearch.value;
    searchPanel(ui.libSearch.value.trim());
  });
  ui.libSearch.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      const first = ui.libResults.querySelector("button");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  replace(ui.replies, head, h("div", { class: "card-body" }, body,
    h("div", { class: "lib-box" }, ui.libSearch, ui.libResults)));
  renderPanelResults();
}

const searchPanel = debounce((query) => {
  if (!query) {
    state.search.panel = null;
    state.panelResults = [];
    renderPanelResults();
    return;
  }
  state.search.panel = query;
  const chat = state.chats.get(state.active);
  sendFrame({ type: "library_search", query, conversation_id: chat && !chat.ended ? chat.id : undefined });
}, 180);

function renderPanelResults() {
  if (!ui.libResults) return;
  const items = state.search.panel ? state.panelResults || [] : [];
  const chat = state.chats.get(state.active);
  const language = chat && chat.suggestions ? chat.suggestions.language : null;
  if (state.search.panel && !items.length) {
    replace(ui.libResults, h("li", { class: "muted small pad", text: "No saved reply matches." }));
    return;
  }
  replace(ui.libResults, items.slice(0, 8).map((item, i) => replyCard(item, language, i)));
}

// --- customer panel ------------------------------------------------------------------------

async function loadTypes() {
  if (state.types) return;
  try {
    state.types = await api("/api/customer-types", { token: state.session.token });
    renderCustomer();
  } catch (err) {
    if (err.status === 401) signOut("Your session has ended. Sign in again.");
  }
}

function section(title, ...children) {
  return h("section", { class: "cust-section" }, h("h3", { text: title }), children);
}

function renderCustomer() {
  const chat = state.chats.get(state.active);
  if (!chat) {
    replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("p", { class: "muted pad", text: "Open a chat to see who you are talking to." }));
    return;
  }
  const c = chat.customer;
  if (!c) {
    replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("p", { class: "muted pad", text: "The customer's details could not be read." }));
    return;
  }
  const blocks = [];
  const name = c.name || (c.anonymous ? "Anonymous visitor" : chatName(chat));
  const facts = h("dl", { class: "facts" });
  const fact = (label, value) => {
    if (value === null || value === undefined || value === "") return;
    facts.append(h("dt", { text: label }), h("dd", {}, value));
  };
  fact("Email", c.email);
  fact("Customer id", c.external_id);
  fact("Language", (c.locale || (chat.visitor && chat.visitor.locale) || "").toUpperCase());
  fact("First seen", c.first_seen ? day(c.first_seen) : null);
  if (c.stats) {
    fact("Orders", `${c.stats.orders} · ${money(c.stats.order_value, (c.orders && c.orders[0] && c.orders[0].currency) || undefined)}`);
    fact("Returns, complaints", String(c.stats.returns_and_complaints));
  }
  if (c.ratings && c.ratings.count) fact("Ratings", `${"★".repeat(Math.round(c.ratings.average))} ${c.ratings.average.toFixed(1)} (${c.ratings.count})`);
  const badges = [];
  if (c.segment) badges.push(h("span", { class: ["badge", "segment", c.segment], title: SEGMENTS[c.segment], text: `Segment ${c.segment}` }));
  else if (!c.anonymous) badges.push(h("span", { class: "badge", title: "No orders yet", text: "No segment" }));
  if (c.first_contact) badges.push(h("span", { class: "badge ok", text: "First contact" }));
  if (c.anonymous) badges.push(h("span", { class: "badge", text: "Not signed in" }));
  blocks.push(h("div", { class: "cust-id" },
    h("span", { class: "avatar big", "aria-hidden": "true", text: initials(name) }),
    h("div", {}, h("strong", { class: "cust-name", text: name }), h("div", { class: "cust-badges" }, badges))));
  if (c.segment) blocks.push(h("p", { class: "small muted seg-note", text: SEGMENTS[c.segment] }));
  blocks.push(facts);

  if (c.page && c.page.url) {
    const href = safeUrl(c.page.url);
    blocks.push(section("Now viewing",
      href ? h("a", { class: "page-link", href, target: "_blank", rel: "noopener noreferrer", text: c.page.title || c.page.url }) : h("span", { text: c.page.title || c.page.url }),
      h("div", { class: "small muted ellipsis", text: c.page.url })));
  }

  blocks.push(profileEditor(chat, c));

  if (c.open_complaints && c.open_complaints.length) {
    blocks.push(section("Open returns and complaints", h("ul", { class: "plain" }, c.open_complaints.map((k) => h("li", { class: "case" },
      h("div", { class: "row" }, h("span", { class: "badge bad", text: k.kind }), h("strong", { text: k.id }), h("span", { class: "badge", text: k.status }), k.order_id ? h("span", { class: "small muted", text: k.order_id }) : null),
      k.text ? h("div", { class: "small", text: k.text }) : null)))));
  }
  if (c.orders && c.orders.length) {
    blocks.push(section("Orders", h("ul", { class: "plain orders" }, c.orders.map((o) => h("li", { class: "order" },
      h("div", { class: "row" }, h("strong", { text: o.order_id }), h("span", { class: ["badge", orderTone(o.status)], text: o.status }), h("span", { class: "spacer" }), h("span", { text: money(o.total, o.currency) })),
      h("div", { class: "small muted", text: `${o.placed_at ? day(o.placed_at) : ""}${o.items_count ? ` · ${o.items_count} item${o.items_count > 1 ? "s" : ""}` : ""}` }),
      o.items && o.items.length ? h("div", { class: "small", text: o.items.map((i) => `${i.name} ×${i.qty}`).join(", ") }) : null)))));
  } else if (!c.anonymous) {
    blocks.push(section("Orders", h("p", { class: "small muted", text: "No orders from the shop yet." })));
  }
  blocks.push(historySection(chat, c));

  replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("div", { class: "card-body" }, blocks));
}

function orderTone(status) {
  const s = String(status).toLowerCase();
  if (["delivered", "completed", "paid", "shipped"].includes(s)) return "ok";
  if (["cancelled", "canceled", "refunded", "failed"].includes(s)) return "bad";
  return "warn";
}

function profileEditor(chat, c) {
  const editable = !c.anonymous && c.id !== null && c.id !== undefined;
  const wrap = h("section", { class: "cust-section profile" }, h("h3", { text: "Communication type" }));
  const types = state.types ? state.types.types : [];
  const families = state.types ? state.types.families : [];
  const select = h("select", { id: "cust-type", "aria-label": "Communication type", disabled: !editable },
    h("option", { value: "", text: "Not noted" }),
    families.map((f) => h("optgroup", { label: f.name }, types.filter((t) => t.family === f.id).map((t) => h("option", { value: t.id, text: `${t.name} (${t.seed_name})`, selected: c.type && c.type.id === t.id })))));
  const hint = h("div", { class: "hint-box", id: "type-hint" });
  const showHint = () => {
    const t = types.find((x) => x.id === select.value) || (select.value && c.type) || null;
    if (!t) {
      replace(hint, h("span", { class: "muted small", text: editable ? "Note how this customer communicates to get a handling hint." : "Available once the visitor signs in as a customer." }));
      return;
    }
    replace(hint, h("div", { class: "small muted", text: `Signs: ${t.signs}` }), h("div", {}, h("strong", { text: "Handle: " }), t.hint), t.derived ? h("div", { class: "small muted", text: "Hint derived from general rules." }) : null);
  };
  showHint();
  wrap.append(select, hint);
  if (!editable) {
    wrap.append(h("p", { class: "small muted", text: "Tags and notes are kept for signed-in customers only." }));
    return wrap;
  }
  const tags = [...(c.tags || [])];
  const tagBox = h("div", { class: "tags", id: "cust-tags" });
  const tagInput = h("input", { type: "text", id: "tag-input", placeholder: "Add a tag, Enter", "aria-label": "Add a tag", maxlength: "40" });
  const notes = h("textarea", { id: "cust-notes", rows: "3", maxlength: "4000", "aria-label": "Notes", value: c.notes || "", placeholder: "Notes for whoever talks to this customer next" });
  const save = h("button", { class: "btn small primary", type: "button", id: "cust-save", disabled: true }, "Save");
  const status = h("span", { class: "small muted save-status", role: "status" });
  const markDirty = () => {
    save.disabled = false;
    status.textContent = "Unsaved changes";
  };
  const drawTags = () => {
    replace(tagBox, tags.map((tag) => h("span", { class: "tag" }, tag,
      h("button", { type: "button", class: "tag-x", "aria-label": `Remove tag ${tag}`, onclick: () => { tags.splice(tags.indexOf(tag), 1); drawTags(); markDirty(); } }, "×"))), tagInput);
  };
  drawTags();
  tagInput.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === ",") && tagInput.value.trim()) {
      event.preventDefault();
      const tag = tagInput.value.trim().slice(0, 40);
      if (!tags.some((t) => t.toLowerCase() === tag.toLowerCase()) && tags.length < 20) tags.push(tag);
      tagInput.value = "";
      drawTags();
      markDirty();
      tagInput.focus();
    } else if (event.key === "Backspace" && !tagInput.value && tags.length) {
      tags.pop();
      drawTags();
      markDirty();
      tagInput.focus();
    }
  });
  select.addEventListener("change", () => { showHint(); markDirty(); });
  notes.addEventListener("input", markDirty);
  save.addEventListener("click", async () => {
    save.disabled = true;
    status.textContent = "Saving…";
    try {
      const body = { tags, type: select.value || null, notes: notes.value, version: c.version };
      const result = await api(`/api/customers/${c.id}`, { method: "PATCH", body, token: state.session.token });
      Object.assign(c, { tags: result.tags, type: result.type, notes: result.notes, version: result.version, updated_at: result.updated_at, updated_by: result.updated_by });
      status.textContent = "Saved";
      renderHead(chat);
    } catch (err) {
      save.disabled = false;
      if (err.code === "edit_conflict") {
        status.textContent = "";
        replace(status, "Someone else changed this profile. ", h("button", { type: "button", class: "btn small", onclick: () => reloadCustomer(chat) }, "Load their version"));
      } else {
        status.textContent = err.message;
      }
    }
  });
  wrap.append(h("h3", { text: "Tags" }), tagBox, h("h3", { text: "Notes" }), notes, h("div", { class: "save-row" }, save, status));
  if (c.updated_by) wrap.append(h("p", { class: "small muted", text: `Last edited by ${c.updated_by.name}${c.updated_at ? ", " + dayTime(c.updated_at) : ""}` }));
  return wrap;
}

async function reloadCustomer(chat) {
  const c = chat.customer;
  try {
    const fresh = await api(`/api/customers/${c.id}`, { token: state.session.token });
    chat.customer = { ...fresh, page: fresh.page || c.page };
    renderCustomer();
    renderHead(chat);
  } catch (err) {
    toast(err.message, "error");
  }
}

function historySection(chat, c) {
  const list = h("ul", { class: "plain history", id: "history" });
  const draw = (conversations) => {
    for (const conv of conversations) list.append(historyItem(chat, c, conv));
  };
  draw(c.conversations || []);
  const children = [list];
  if (!(c.conversations || []).length) children.push(h("p", { class: "small muted", text: "No earlier conversations." }));
  if (c.more_conversations) {
    const more = h("button", { class: "btn small", type: "button" }, "Older conversations");
    let before = c.conversations[c.conversations.length - 1].id;
    more.addEventListener("click", async () => {
      try {
        const base = c.anonymous ? `/api/visitors/${encodeURIComponent(c.visitor_id)}` : `/api/customers/${c.id}`;
        const page = await api(`${base}/conversations?before=${before}&limit=20`, { token: state.session.token });
        draw(page.conversations);
        if (page.next_before === null) more.remove();
        else before = page.next_before;
      } catch (err) {
        toast(err.message, "error");
      }
    });
    children.push(more);
  }
  const total = c.conversations_total ? ` (${c.conversations_total})` : "";
  return section(`Past conversations${total}`, children);
}

function historyItem(chat, c, conv) {
  const outcome = OUTCOMES[conv.outcome] || [conv.outcome, ""];
  const situation = conv.situation ? (SITUATIONS[conv.situation] || [conv.situation])[0] : null;
  return h("li", {}, h("button", { type: "button", class: "history-item", onclick: () => showTranscript(c, conv) },
    h("span", { class: "row" }, h("strong", { text: day(conv.created_at) }), h("span", { class: ["badge", outcome[1]], text: outcome[0] }),
      situation ? h("span", { class: "badge", text: situation }) : null,
      conv.rating ? h("span", { class: "small", title: conv.rating.comment || "", text: "★".repeat(conv.rating.score) }) : null),
    conv.opening ? h("span", { class: "small ellipsis2", text: `“${conv.opening}”` }) : null,
    h("span", { class: "small muted", text: `${conv.messages} messages${conv.handled_by && conv.handled_by.length ? " · " + conv.handled_by.map((o) => o.name).join(", ") : ""}` })));
}

async function showTranscript(c, conv) {
  const log = h("ol", { class: "log transcript" }, h("li", { class: "day", text: "Loading…" }));
  modal({ title: `Conversation of ${dayTime(conv.created_at)}`, body: log, className: "wide" });
  try {
    const base = c.anonymous ? `/api/visitors/${encodeURIComponent(c.visitor_id)}` : `/api/customers/${c.id}`;
    const page = await api(`${base}/conversations/${conv.id}/messages?limit=500`, { token: state.session.token });
    replace(log, page.messages.length ? page.messages.map(messageItem) : h("li", { class: "day", text: "No messages." }));
  } catch (err) {
    replace(log, h("li", { class: "day", text: err.message }));
  }
}

// --- transfer dialog -----------------------------------------------------------------------

async function openTransfer(chat) {
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

function closeChat(chat) {
  confirmDialog("Close this chat?", "Before closing, make sure the visitor has nothing else to ask. The visitor sees that the chat has ended.", "Close chat", true)
    .then((yes) => { if (yes) sendFrame({ type: "close", conversation_id: chat.id }); });
}

// --- queue polling -------------------------------------------------------------------------

async function pollQueue() {
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

// --- notifications -------------------------------------------------------------------------

function renderBell() {
  if (!ui.bell) return;
  const supported = "Notification" in window;
  replace(ui.bell, icon(state.notify ? "bell" : "bellOff"));
  ui.bell.setAttribute("aria-pressed", String(state.notify));
  ui.bell.setAttribute("aria-label", state.notify ? "Desktop notifications on" : "Desktop notifications off");
  ui.bell.title = supported ? (state.notify ? "Desktop notifications are on (click to turn off)" : "Turn on desktop notifications for new chats") : "This browser has no desktop notifications";
  ui.bell.disabled = !supported;
}

async function toggleNotifications() {
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

function notify(title, body) {
  renderTitle();
  if (!state.notify || !document.hidden) return;
  try {
    const n = new Notification(title, { body: String(body).slice(0, 160), tag: "chatdesk" });
    n.onclick = () => window.focus();
  } catch (err) {
    /* some browsers allow notifications only from a service worker */
  }
}

// --- keyboard ------------------------------------------------------------------------------

function showHelp() {
  const rows = [
    [["Enter"], "send the reply"], [["Shift", "Enter"], "new line"], [["/"], "saved replies by shortcut (in the reply box)"],
    [["Tab"], "next blank to fill (Shift + Tab: previous)"], [["Alt", "↓"], "next chat (Alt + ↑: previous)"],
    [["Alt", "1–4"], "chats, reply box, suggestions, customer"], [["Alt", "T"], "transfer the chat"], [["Esc"], "close a list or dialog"],
  ];
  modal({
    title: "Keyboard shortcuts",
    body: h("table", { class: "keys" }, rows.map(([keys, what]) => h("tr", {},
      h("td", {}, keys.map((k, i) => [i ? " + " : "", h("kbd", { text: k })])), h("td", { text: what })))),
  });
}

document.addEventListener("keydown", (event) => {
  if (!ui.chatList || document.querySelector("dialog[open]")) return;
  if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    moveSelection(event.key === "ArrowDown" ? 1 : -1);
    return;
  }
  if (event.altKey && ["1", "2", "3", "4"].includes(event.key)) {
    event.preventDefault();
    const target = { 1: ["list", () => (ui.chatList.querySelector("button") || ui.queueList).focus()], 2: ["chat", () => ui.input.focus()], 3: ["replies", () => { const b = ui.replies.querySelector(".reply-btn") || ui.libSearch; if (b) b.focus(); }], 4: ["customer", () => { const f = ui.customer.querySelector("select, input, textarea, button"); if (f) f.focus(); }] }[event.key];
    setTab(target[0]);
    target[1]();
    return;
  }
  if (event.altKey && (event.key === "t" || event.key === "T")) {
    event.preventDefault();
    openTransfer(state.chats.get(state.active));
    return;
  }
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (!typing && event.key === "?") {
    event.preventDefault();
    showHelp();
  }
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.active) markRead(state.chats.get(state.active));
});
PHONE.addEventListener("change", () => setTab(state.tab));

boot();
