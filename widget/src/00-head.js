/*! Visitor chat widget. Plain JavaScript, no build step, no dependencies.
 *
 *   <script src="https://chat.example/widget.js" data-site-key="…" async></script>
 *
 * Optional attributes: data-locale="pl" (else the browser's language), data-color="#3557d4",
 * data-title="Northwind support". A shop that signs its customers in may set, before the tag,
 *   window.chatWidgetIdentity = {external_id, name, email, signature}
 * The server's origin comes from this script's own src. Everything renders in a shadow root,
 * and every remote string is set with textContent: nothing from the other side is parsed as HTML.
 */
(function () {
  "use strict";
  if (window.__chatWidget) return;

  // --- wire names: mirror chatserver/transport/frames.py (and docs/protocol.md) -------------
  var T = {
    HELLO: "hello", WELCOME: "welcome", ERROR: "error", ACK: "ack", MESSAGE: "message",
    TYPING: "typing", QUEUE: "queue", ASSIGNED: "assigned", TRANSFER: "transfer", CLOSED: "closed",
    PAGE: "page", RATING: "rating", LEAVE_MESSAGE: "leave_message", HOLD: "hold",
    TRANSFER_UPDATE: "transfer_update", MESSAGE_LEFT: "message_left", MESSAGE_ANSWERED: "message_answered",
    WRAP_UP: "wrap_up", WRAP_UP_ANSWER: "wrap_up_answer", BOUNDARY: "boundary", CHECK_BACK: "check_back",
  };
  var E = {
    UNKNOWN_TYPE: "unknown_type", TEXT_TOO_LONG: "text_too_long", INVALID_FIELD: "invalid_field",
    MISSING_FIELD: "missing_field", INTERNAL_ERROR: "internal_error",
    COOLING_DOWN: "cooling_down", VISITOR_BLOCKED: "visitor_blocked",
  };
  var CLOSE_UNAUTHORIZED = 4401;
  var CLOSE_BLOCKED = 4410; // a blocked visitor: the widget stops reconnecting

  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-site-key]') ||
    document.querySelector('script[src*="widget.js"]');
  if (!script) return;
  // The server is where this script came from: its origin, plus any path prefix a proxy adds
  // (https://shop.example/chat/widget.js talks to https://shop.example/chat/api/...).
  var ORIGIN = new URL(".", new URL(script.src, location.href)).href.replace(/\/$/, "");
  var WS_URL = ORIGIN.replace(/^http/, "ws") + "/ws/visitor";
  var SITE_KEY = script.getAttribute("data-site-key") || "";
  var P = "cw1:"; // storage prefix

