// What is going on with a chat besides its messages, as banners over the log: it ended, the
// visitor waits for a reply (nudges), an answer is owed (checkback.js), or a transfer is under way.

import { duration, h, replace, toast } from "/console/ui.js";
import { TRANSFER_STATUS } from "./constants.js";
import { state, ui } from "./state.js";
import { chatName } from "./chats.js";
import { sendFrame } from "./socket.js";
import { waitText } from "./fragments.js";
import { dismissChat, renderList } from "./chatlist.js";
import { notify } from "./notifications.js";
import { owedBanners } from "./checkback.js";

export function onTransferStatus(frame) {
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

export function onNudge(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.nudge = { ...frame, at: Date.now() };
  if (frame.stage === "nudge") notify("A visitor is waiting", `${chatName(chat)} has waited ${duration(frame.waited_s)} for your reply.`);
  if (chat.id === state.active) renderBanners(chat);
  renderList();
}

export function renderBanners(chat) {
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
  items.push(...owedBanners(chat));
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
