// Transfers offered to this operator by a colleague: the cards with their countdown, and the
// answer.

import { clear, h, modal, replace, toast } from "/console/ui.js";
import { state, ui } from "./state.js";
import { sendFrame } from "./socket.js";
import { messageItem } from "./fragments.js";
import { renderTabCounts, renderTitle } from "./chatlist.js";
import { notify } from "./notifications.js";

export function onTransferOffer(frame) {
  state.offers.set(frame.conversation_id, { ...frame, expiresAt: Date.now() + (frame.expires_in_s || 30) * 1000 });
  notify("Transfer request", `${frame.from ? frame.from.name : "A colleague"} asks you to take a chat: ${frame.reason}`);
  renderOffers();
  renderTitle();
}

export function onOfferWithdrawn(frame) {
  const offer = state.offers.get(frame.conversation_id);
  state.offers.delete(frame.conversation_id);
  if (offer && frame.reason === "expired") toast("A transfer offer expired before you answered.");
  renderOffers();
  renderTitle();
}

export function renderOffers() {
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
