  // --- the message list ------------------------------------------------------------------
  function sortKey(it) {
    if (it.cid == null) return [Infinity, it.order];
    return [it.cid, it.seq == null ? END_SEQ - 1 : it.seq, it.order];
  }
  function before(a, b) {
    var x = sortKey(a), y = sortKey(b);
    for (var i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
    return false;
  }

  function place(it) {
    // Insert (or move) the item's node so the list stays ordered by conversation, then seq.
    var idx = S.items.indexOf(it);
    if (idx >= 0) S.items.splice(idx, 1);
    var at = S.items.length;
    while (at > 0 && before(it, S.items[at - 1])) at--;
    S.items.splice(at, 0, it);
    var next = S.items[at + 1];
    var ref = next ? next.el : null;
    if (it.el.parentNode !== ui.log || it.el.nextSibling !== ref) ui.log.insertBefore(it.el, ref);
  }

  function renderItem(it) {
    var el = it.el || (it.el = h("li"));
    el.textContent = "";
    if (it.kind === "end") {
      el.className = "end";
      el.textContent = t("ended");
      return el;
    }
    var cls = it.sender === "visitor" ? "v" : it.sender === "operator" ? "o" : "s";
    el.className = "m " + cls + (it.state === "failed" ? " fail" : "");
    if (it.cid != null) el.setAttribute("data-cid", it.cid);
    if (it.seq != null) el.setAttribute("data-seq", it.seq);
    if (it.clientId && it.sender === "visitor") el.setAttribute("data-client-id", it.clientId);
    var who = it.sender === "visitor" ? t("you") : it.sender === "operator" ? (it.author && it.author.name) || t("consultant") : t("info");
    if (it.sender === "operator") {
      var prev = S.items[S.items.indexOf(it) - 1];
      var same = prev && prev.sender === "operator" && prev.author && it.author && prev.author.name === it.author.name;
      var label = h("div", { class: "who", "aria-hidden": "true", text: who + (it.author && it.author.title ? " · " + it.author.title : "") });
      if (same) label.hidden = true;
      el.appendChild(label);
    }
    el.appendChild(h("span", { class: "sr", text: who + ": " }));
    el.appendChild(h("div", { class: "b", text: it.text }));
    if (it.sender !== "system") {
      var meta = h("div", { class: "meta" });
      if (it.state === "pending") meta.textContent = t("sending");
      else if (it.state === "failed") {
        meta.textContent = it.error === E.TEXT_TOO_LONG ? t("tooLong") : t("failed");
        if (it.error !== E.TEXT_TOO_LONG) meta.appendChild(h("button", { class: "rt", type: "button", text: t("retry"), onclick: function () { retryItem(it); } }));
      } else meta.textContent = clock(it.ts);
      el.appendChild(meta);
    }
    return el;
  }

  function nearBottom() { return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80; }
  function scrollDown(force) {
    if (force || S.stick) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function addItem(it) {
    S.stick = nearBottom() || it.sender === "visitor";
    if (it.order == null) it.order = ++S.order;
    if (!it.el) it.el = h("li");
    place(it);
    renderItem(it);
    if (it.sender === "operator") {
      // the name label depends on the neighbour: refresh the one after, too
      var next = S.items[S.items.indexOf(it) + 1];
      if (next && next.sender === "operator") renderItem(next);
    }
    scrollDown();
  }

  function removeItem(it) {
    var idx = S.items.indexOf(it);
    if (idx >= 0) S.items.splice(idx, 1);
    if (it.el && it.el.parentNode) it.el.parentNode.removeChild(it.el);
  }

  function addEnd(cid) {
    for (var i = 0; i < S.items.length; i++) if (S.items[i].kind === "end" && S.items[i].cid === cid) return;
    var it = { kind: "end", cid: cid, seq: END_SEQ };
    addItem(it);
  }

  function convSwitch(cid) {
    // A newer conversation than the one we knew: it starts from seq 0.
    if (S.cid != null && cid !== S.cid && S.closed) addEnd(S.cid);
    S.cid = cid; S.lastSeq = 0; S.closed = false; S.left = false; S.cb = null;
    S.queue = null; S.transfer = null; S.hold = null;
    if (S.phase === "closed" || S.phase === "idle") S.phase = "waiting";
    seqAdvance();
    saveConv();
  }

  function seqAdvance() {
    while (S.bySeq[S.cid + ":" + (S.lastSeq + 1)]) S.lastSeq++;
  }

  function onMessage(f) {
    var cid = f.conversation_id, seq = f.seq;
    if (typeof cid !== "number" || typeof seq !== "number" || typeof f.text !== "string") return;
    var key = cid + ":" + seq;
    if (S.bySeq[key]) return; // already shown: a replay after resume, or another tab's echo
    if (S.cid == null || cid > S.cid) convSwitch(cid);
    var it = f.sender === "visitor" && f.client_id ? S.byClient[f.client_id] : null;
    var fresh = !it;
    if (!it) it = { kind: "m", clientId: f.sender === "visitor" ? f.client_id || null : null };
    it.cid = cid; it.seq = seq; it.sender = f.sender; it.text = f.text; it.ts = f.ts;
    it.author = f.author && typeof f.author === "object" ? { name: String(f.author.name || ""), title: String(f.author.title || "") } : null;
    it.state = "sent";
    S.bySeq[key] = it;
    if (it.clientId) { S.byClient[it.clientId] = it; lsDel("out:" + it.clientId); }
    addItem(it);
    if (cid === S.cid) { seqAdvance(); saveConv(); }
    saveLog();
    if (f.sender === "operator") {
      setOpTyping(false);
      if (S.cb && cid === S.cid && typeof f.ts === "number" && f.ts > S.cb.at) { S.cb = null; saveConv(); renderStatus(); }
      if (it.author && it.author.name && cid === S.cid) {
        S.operator = it.author;
        if (S.phase === "waiting") S.phase = "chatting";
        saveConv();
        renderHeader();
      }
    }
    if (fresh && f.sender !== "visitor" && (!S.open || document.hidden)) { S.unread++; renderBadge(); }
  }

