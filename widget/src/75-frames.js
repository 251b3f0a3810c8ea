  var HANDLERS = {};
  HANDLERS[T.WELCOME] = function (f) {
    clearTimeout(S.helloTimer);
    S.ready = true; S.everReady = true; S.retry = 0;
    if (typeof f.conversation_id === "number" && f.conversation_id !== S.cid) convSwitch(f.conversation_id);
    flushOutbox();
    sendPage();
    render();
  };
  HANDLERS[T.MESSAGE] = onMessage;
  HANDLERS[T.ACK] = onAck;
  HANDLERS[T.QUEUE] = function (f) {
    if (typeof f.conversation_id !== "number") return;
    if (S.cid == null || f.conversation_id > S.cid) convSwitch(f.conversation_id);
    if (f.conversation_id !== S.cid) return;
    S.queue = f;
    if (f.kind === "transfer") S.phase = "transfer";
    else if (f.kind === "queue" || S.phase !== "transfer") {
      // Waiting for a first (or, after a requeue, a new) operator.
      S.phase = "waiting"; S.transfer = null; S.operator = null;
    }
    saveConv();
    render();
  };
  HANDLERS[T.ASSIGNED] = function (f) {
    if (typeof f.conversation_id !== "number") return;
    if (S.cid == null || f.conversation_id > S.cid) convSwitch(f.conversation_id);
    if (f.conversation_id !== S.cid) return;
    var op = f.operator || {};
    S.operator = { name: String(op.name || ""), title: String(op.title || "") };
    S.phase = "chatting"; S.queue = null; S.transfer = null; S.hold = null; S.left = false;
    saveConv();
    render();
  };
  function num(v) { return typeof v === "number" ? v : null; }
  HANDLERS[T.TRANSFER] = function (f) {
    // The announcement itself arrives as a stored system message; this frame sets the status.
    if (f.conversation_id !== S.cid) return;
    S.phase = "transfer";
    var to = f.to && typeof f.to === "object" && typeof f.to.name === "string" ? { name: f.to.name } : null;
    S.transfer = { estimated_wait_s: num(f.estimated_wait_s), low_s: num(f.low_s), high_s: num(f.high_s), to: to };
    S.queue = null;
    render();
  };
  HANDLERS[T.TRANSFER_UPDATE] = function (f) {
    if (f.conversation_id !== S.cid) return;
    if (f.status === "returned" || f.status === "cancelled") {
      // The same operator stays; `assigned` follows and settles the header.
      S.transfer = null; S.queue = null; S.hold = null;
      if (S.operator) S.phase = "chatting";
    } else {
      S.phase = "transfer";
      S.transfer = { estimated_wait_s: num(f.estimated_wait_s), low_s: num(f.low_s), high_s: num(f.high_s), to: null };
      S.queue = null;
    }
    render();
  };
  HANDLERS[T.MESSAGE_LEFT] = function (f) {
    if (f.conversation_id !== S.cid) return;
    S.left = true;
    saveConv();
    render();
  };
  HANDLERS[T.CHECK_BACK] = function (f) {
    // The operator will find out and answer by due_at (their message says so too).
    if (f.conversation_id !== S.cid || typeof f.due_at !== "number" || typeof f.in_s !== "number") return;
    S.cb = { due: f.due_at, at: f.due_at - f.in_s };
    saveConv();
    renderStatus();
  };
  HANDLERS[T.HOLD] = function (f) {
    if (f.conversation_id != null && f.conversation_id !== S.cid) return;
    S.hold = typeof f.text === "string" ? f.text : null;
    renderStatus();
  };
  HANDLERS[T.TYPING] = function (f) {
    if (f.from === "operator" && (f.conversation_id == null || f.conversation_id === S.cid)) setOpTyping(!!f.on);
  };
  HANDLERS[T.WRAP_UP] = function (f) {
    // The operator asked "anything else?" (their message shows the question): offer the two answers.
    if (f.conversation_id !== S.cid || S.closed) return;
    S.wrap = f.conversation_id;
    saveConv();
    showWrapUp();
  };
  HANDLERS[T.WRAP_UP_ANSWER] = function (f) {
    if (f.conversation_id !== S.cid) return;
    S.wrap = null;
    saveConv();
    hideWrapUp();
  };
  HANDLERS[T.CLOSED] = function (f) {
    var cid = f.conversation_id;
    if (typeof cid !== "number") return;
    addEnd(cid);
    if (cid === S.cid) { S.wrap = null; hideWrapUp(); }
    if (cid === S.cid) {
      S.closed = true; S.phase = "closed"; S.queue = null; S.transfer = null; S.hold = null; S.left = false; S.cb = null;
      setOpTyping(false);
      if (!S.blocked && S.rate !== "done:" + cid) { S.rate = cid; showRating(); }  // no rating after a block
      saveConv();
      saveLog();
      render();
    }
  };
  HANDLERS[T.ERROR] = function (f) {
    var id = typeof f.client_id === "string" ? f.client_id : "";
    if (id.indexOf("rate-") === 0) { if (f.code === E.UNKNOWN_TYPE) rateOverRest(); return; }
    if (id.indexOf("leave-") === 0) {
      if (f.code !== E.UNKNOWN_TYPE) {
        S.left = false;
        // The server found the address wrong: the form comes back with the error.
        if (f.code === E.INVALID_FIELD) { S.leaving = true; S.leaveError = true; }
        saveConv(); render();
      }
      return;
    }
    var it = S.byClient[id];
    if (it && it.state === "pending") {
      if (f.code === E.INTERNAL_ERROR) { setTimeout(function () { if (it.state === "pending") sendItem(it); }, 3000); return; }
      it.state = "failed"; it.error = f.code;
      lsDel("out:" + id);
      renderItem(it);
    }
  };

  function handle(f) {
    var fn = HANDLERS[f.type];
    if (fn) fn(f);
    // Unknown frames (newer servers) are ignored on purpose.
  }

