// Ideas heard, from the operator's chat: when the visitor's message is a feature request
// (pointless_suggestion), a button records it as an idea, its text prefilled from the message
// and editable into a short summary; the server counts it with its near-duplicates, and the
// visitor is told first, in this chat, if it is ever planned (docs/protocol.md "Ideas heard").

import { h, modal } from "/console/ui.js";
import { state, ui } from "./state.js";
import { sendFrame } from "./socket.js";

const IDEA_SITUATION = "pointless_suggestion";
const MAX_SUMMARY = 300;

// The replies panel's offer for suggestions ``s`` of ``chat`` (null when it is no feature request).
export function ideaOffer(chat, s) {
  if (!s || s.situation !== IDEA_SITUATION || chat.ended) return null;
  const recorded = chat.ideas && chat.ideas[s.seq];
  if (recorded) {
    return h("p", { class: "idea-done small", id: "idea-recorded", role: "status" },
      h("strong", { text: "Idea recorded: " }), `“${recorded.summary}” · ${recorded.count} asked. They will hear first, in this chat, if it is planned.`);
  }
  return h("div", { class: "idea-offer" },
    h("button", { class: "btn small", type: "button", id: "idea-btn", title: "Count this request, so the visitor can be told first if it is ever planned", onclick: () => openIdea(chat, s.seq) }, "Record the visitor's idea"),
    h("span", { class: "small muted", text: " so they are the first to know." }));
}

function openIdea(chat, seq) {
  const message = chat.bySeq.get(seq);
  const text = h("textarea", { id: "idea-text", rows: "3", maxlength: String(MAX_SUMMARY) });
  text.value = ((message && message.text) || "").trim().slice(0, MAX_SUMMARY);
  const error = h("div", { class: "form-error", role: "alert", id: "idea-error" });
  const submit = h("button", { class: "btn primary", type: "button", id: "idea-submit" }, "Record idea");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const body = h("div", { class: "transfer-form" },
    h("p", { class: "small muted", text: "Edit it into a short summary if you like: requests with the same words are counted together, and admins see them under Ideas heard." }),
    h("label", { for: "idea-text" }, "The idea"), text, error);
  const { close } = modal({ title: "Record the visitor's idea", body, actions: [cancel, submit], onClose: () => { if (ui.transferDialog && ui.transferDialog.idea) ui.transferDialog = null; } });
  cancel.addEventListener("click", close);
  submit.addEventListener("click", () => {
    const summary = text.value.trim();
    error.textContent = "";
    submit.disabled = true;
    const frame = { type: "idea", conversation_id: chat.id, seq };
    if (summary) frame.text = summary;
    if (!sendFrame(frame)) {
      submit.disabled = false;
      error.textContent = "Not connected.";
    }
  });
  // A refusal comes back to the open dialog (see connection.js onError).
  ui.transferDialog = {
    cid: chat.id,
    idea: { seq },
    done: () => close(),
    onError: (frame) => {
      submit.disabled = false;
      error.textContent = frame.message || frame.code;
    },
  };
  text.focus();
}

// The idea is counted: remembered for that message, the dialog closes, the panel confirms it
// (``renderReplies`` from suggestions.js, handed in: that module draws this one's offer).
export function onIdeaRecorded(frame, renderReplies) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.ideas = chat.ideas || {};
  chat.ideas[frame.seq] = frame.idea || {};
  const dialog = ui.transferDialog;
  if (dialog && dialog.idea && dialog.cid === chat.id && dialog.idea.seq === frame.seq) dialog.done();
  if (chat.id === state.active) renderReplies();
}
