// The supervisor's side of the console, and whispers on the operator's side: which frames go to
// the watch view (watch.js), the live chats list (live.js) and the operator's own chat log.
// connection.js hands every frame here after its own handling.

import { toast } from "/console/ui.js";
import { state } from "./state.js";
import { chatName } from "./chats.js";
import { sendFrame } from "./socket.js";
import { selectChat } from "./chatlist.js";
import { renderLog } from "./chatview.js";
import { renderOffers } from "./offers.js";
import { keepWhisper } from "./whispers.js";
import { buildLive, isSupervisor, pollLive, sup } from "./live.js";
import { onWatchFrame, startWatching, tookOver } from "./watch.js";

// After the layout is built: supervisors and admins get the live chats list.
export function startSupervision() {
  if (!isSupervisor()) return;
  buildLive(startWatching);
  pollLive();
}

export function onSupervisionFrame(frame) {
  switch (frame.type) {
    case "welcome":
      // Reconnected: follow the watched chat again (what was shown already is not repeated).
      if (sup.watch && !sup.watch.ended) sendFrame({ type: "watch", conversation_id: sup.watch.cid });
      if (isSupervisor() && !sup.timer) startSupervision();
      break;
    case "whisper":
      onWhisper(frame);
      onWatchFrame(frame);
      break;
    case "watch":
    case "message":
    case "closed":
      onWatchFrame(frame);
      break;
    case "assigned":
      if (sup.watch && sup.watch.cid === frame.conversation_id) {
        state.offers.delete(frame.conversation_id);
        renderOffers();
        tookOver(frame.conversation_id, (cid) => selectChat(cid));
        pollLive();
      }
      break;
    default:
      break;
  }
}

// A whisper about a chat we hold: into its log, marked; a toast when we are looking elsewhere.
function onWhisper(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat || !keepWhisper(chat, frame)) return;
  if (chat.id === state.active) renderLog(chat);
  const mine = state.me && frame.from && frame.from.id === state.me.id;
  if (!mine && (chat.id !== state.active || document.hidden)) toast(`Whisper from ${frame.from ? frame.from.name : "a supervisor"} about ${chatName(chat)}`);
}
