// Connecting the operator socket (with back-off after a drop) and what each frame from the
// server does; the frames of docs/protocol.md.

import { toast } from "/console/ui.js";
import { TYPING_SHOW_MS } from "./constants.js";
import { remember, state, ui } from "./state.js";
import { bySeq, chatName, isViewing, markRead, newChat, touchOrder } from "./chats.js";
import { renderConn, sendFrame, stopConnection } from "./socket.js";
import { signOut } from "./signin.js";
import { renderStatus } from "./status.js";
import { renderComposer, selectMarker } from "./draft.js";
import { renderList, renderTitle, selectChat } from "./chatlist.js";
import { pollQueue } from "./queue.js";
import { notify } from "./notifications.js";
import { onOfferWithdrawn, onTransferOffer, renderOffers } from "./offers.js";
import { onNudge, onTransferStatus, renderBanners } from "./banners.js";
import { onAnswered, onCheckBack, onCheckBackDue, onMessageLeft } from "./checkback.js";
import { renderHead, renderLog, renderTyping } from "./chatview.js";
import { onLibraryResults, onSuggestions, renderReplies } from "./suggestions.js";
import { renderCustomer } from "./customer.js";
import { renderAll } from "./layout.js";
import { onBoundaryNotice } from "./boundary.js";
import { onSupervisionFrame } from "./supervision.js";
import { onIdeaRecorded } from "./idea.js";

export function connect() {
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
      onSupervisionFrame(frame);
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

// Another console of this operator is connected (the welcome says a status other than
// offline): keep its status, never override it, so signing in on a second device does not
// take them offline. Otherwise ask for the status this console last wanted.
function adoptOrAskStatus(current) {
  if (current && current !== "offline") {
    state.status = current;
    state.wanted = current;
    remember();
    renderStatus();
    renderList();
    pollQueue();
    return;
  }
  sendFrame({ type: "status", status: state.wanted });
}

// The abusive visitor protocol: the step taken (warn, cool_down, block) picks the next button.
function onBoundary(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  chat.boundary = frame.step;
  if (state.active === chat.id) {
    renderHead(chat);
    renderReplies();
  }
}

// The "anything else?" step: asked (by any console of ours), then the visitor's answer.
function onWrapUp(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat) return;
  if (frame.type === "wrap_up") chat.wrapUp = "asked";
  else {
    chat.wrapUp = frame.answer === "more" ? null : "done";
    toast(frame.answer === "more" ? `${chatName(chat)} has one more thing` : `${chatName(chat)} has nothing else: the chat is closing`, "ok");
  }
  if (state.active === chat.id) renderHead(chat);
}

function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      state.connected = true;
      state.retry = 0;
      state.me = { ...state.me, ...frame.operator };
      remember();
      renderConn("");
      adoptOrAskStatus(frame.status);
      reconcileAfterReconnect();
      break;
    case "status":
      // Ours, or one set on another console of this operator: every console shows the same.
      state.status = frame.status;
      state.wanted = frame.status;
      remember();
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
    case "wrap_up":
    case "wrap_up_answer":
      onWrapUp(frame);
      break;
    case "boundary":
      onBoundary(frame);
      break;
    case "boundary_notice":
      onBoundaryNotice(frame);
      break;
    case "message_left":
      onMessageLeft(frame);
      break;
    case "check_back":
      onCheckBack(frame);
      break;
    case "check_back_due":
      onCheckBackDue(frame);
      break;
    case "check_back_answered":
      onAnswered(frame);
      break;
    case "idea_recorded": {
      // The visitor's feature request is counted; they will be told first if it is planned.
      const idea = frame.idea || {};
      toast(`${frame.new ? "New idea" : "Idea counted"}: “${idea.summary}” (${idea.count} asked). They will hear first if it is planned.`);
      onIdeaRecorded(frame, renderReplies);
      break;
    }
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
