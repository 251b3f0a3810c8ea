// Suggested replies for the visitor's last message, and the search of the saved-reply library
// in the same panel (its results and the popup's come back as library_results).

import { debounce, h, replace } from "/console/ui.js";
import { SITUATIONS } from "./constants.js";
import { state, ui } from "./state.js";
import { sendFrame } from "./socket.js";
import { slotText } from "./fragments.js";
import { insertReply, showPopup } from "./popup.js";
import { renderTabCounts } from "./chatlist.js";
import { sendBoundary } from "./boundary.js";
import { ideaOffer } from "./idea.js";

export function onSuggestions(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (chat.suggestions && chat.suggestions.seq > frame.seq) return;
  chat.suggestions = frame;
  if (chat.id === state.active) renderReplies();
  renderTabCounts();
}

export function onLibraryResults(frame) {
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

// The situation the assistant recognised, and a way to say it is another one: the server keeps
// the correction (the assistant learns from it) and answers with that situation's replies.
const LABELS = [...Object.keys(SITUATIONS).filter((key) => key !== "general"), "none"];

function situationPicker(chat, s) {
  const current = s.situation || "none";
  const select = h("select", {
    class: ["situation-pick", s.corrected && "corrected"], id: "situation-pick", "aria-label": "Situation of the visitor's message",
    title: s.corrected ? "The situation you set; its replies are below" : "What the assistant recognised in the visitor's words; pick another if it is wrong",
  }, LABELS.map((label) => h("option", { value: label, selected: label === current, text: label === "none" ? "Ordinary chat" : SITUATIONS[label][0] })));
  select.addEventListener("change", () => {
    sendFrame({ type: "situation", conversation_id: chat.id, seq: s.seq, situation: select.value });
  });
  return select;
}

export function renderReplies() {
  const chat = state.chats.get(state.active);
  if (!chat) {
    replace(ui.replies, h("div", { class: "card-head" }, h("h2", { text: "Suggested replies" })),
      h("p", { class: "muted pad", text: "Suggestions appear when a visitor writes." }));
    return;
  }
  const s = chat.suggestions;
  const head = h("div", { class: "card-head" }, h("h2", { text: "Suggested replies" }),
    s && s.situation ? h("span", { class: "badge brand situation", id: "situation", title: s.corrected ? "The situation you set" : "What the assistant recognised in the visitor's words", text: (SITUATIONS[s.situation] || [s.situation])[0] }) : null,
    s && !chat.ended ? situationPicker(chat, s) : null);
  const body = [];
  if (s && s.situation && SITUATIONS[s.situation] && SITUATIONS[s.situation][1]) {
    body.push(h("p", { class: "tip small" }, h("strong", { text: "How: " }), SITUATIONS[s.situation][1]));
  }
  if (s && s.situation === "hater" && !chat.ended && !chat.boundary) {
    // The recognizer hears insults: the operator confirms by setting the boundary, in one click.
    body.push(h("div", { class: "hater-offer", id: "hater-offer" },
      h("p", { class: "small", text: "Insults? Set the boundary first: the warning goes in the visitor's language; a cool-down and a block follow only if it goes on." }),
      h("button", { class: "btn", type: "button", id: "hater-boundary", title: "Send the boundary warning (the assistant recognised an abusive message; you confirm it)", onclick: () => sendBoundary(chat, "warn", true) }, "Set the boundary: send the warning")));
  }
  const idea = ideaOffer(chat, s);
  if (idea) body.push(idea);
  if (s && Array.isArray(s.candidates) && s.candidates.length) {
    body.push(h("p", { class: "candidates small", id: "candidates", title: "The assistant is unsure: its three likeliest readings" },
      h("strong", { text: "Unsure: " }),
      s.candidates.map((c, i) => h("span", { class: "badge", text: `${i ? " " : ""}${c.situation ? (SITUATIONS[c.situation] || [c.situation])[0] : "No hard situation"} ${Math.round((c.score || 0) * 100)}%` }))));
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
