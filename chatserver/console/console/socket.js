// The operator socket as the rest of the console uses it: send a frame when connected, close
// it, and say how the connection is doing. Connecting and the incoming frames: connection.js.

import { state, ui } from "./state.js";

export function stopConnection(stopPolling = true) {
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

export function sendFrame(frame) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.connected) return false;
  state.ws.send(JSON.stringify(frame));
  return true;
}

export function renderConn(text) {
  if (!ui.conn) return;
  ui.conn.textContent = text || "";
  ui.conn.classList.toggle("hidden", !text);
}
