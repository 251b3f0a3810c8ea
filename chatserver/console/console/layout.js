// The page frame: app bar, tabs (one pane at a time on a phone), the three columns and the chat
// pane's nodes, and redrawing every pane at once.

import { h, replace } from "/console/ui.js";
import { state, ui } from "./state.js";
import { setTab } from "./chats.js";
import { signOut } from "./signin.js";
import { renderStatus, setStatus, statusTitle } from "./status.js";
import { hidePopup } from "./popup.js";
import { renderList, renderTitle } from "./chatlist.js";
import { renderQueue } from "./queue.js";
import { renderBell, toggleNotifications } from "./notifications.js";
import { renderOffers } from "./offers.js";
import { renderOwed } from "./checkback.js";
import { renderChat } from "./chatview.js";
import { onComposerInput, onComposerKey, sendDraft } from "./composer.js";
import { renderReplies } from "./suggestions.js";
import { renderCustomer } from "./customer.js";
import { showHelp } from "./keyboard.js";

export function buildLayout() {
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
  ui.owedList = h("ul", { class: "owed-list", id: "owed-list", "aria-label": "Answers you owe" });
  ui.owedCount = h("span", { class: "muted small", id: "owed-count" });
  const list = h("aside", { class: "col col-list", id: "pane-list" },
    ui.offers,
    h("section", { class: "list-section" }, h("div", { class: "section-head" }, h("h2", { text: "My chats" }), ui.chatCount), ui.chatList),
    h("section", { class: "list-section" }, h("div", { class: "section-head" }, h("h2", { text: "Answers owed" }), ui.owedCount), ui.owedList),
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

export function renderAll() {
  if (!ui.chatList) return;
  renderList();
  renderQueue();
  renderOffers();
  renderChat();
  renderOwed();
  renderReplies();
  renderCustomer();
  renderTitle();
}
