  // --- outgoing messages (kept in localStorage until acked; resent with the same client_id) -
  function submit() {
    var text = ui.input.value.replace(/\s+$/, "");
    if (!text.trim()) return;
    ui.input.value = "";
    grow();
    ui.send.disabled = true;
    typingStop();
    var it = { kind: "m", sender: "visitor", clientId: newId("w-"), text: text, ts: Date.now() / 1000, state: "pending", cid: null, seq: null };
    it.order = ++S.order;
    lsSet("out:" + it.clientId, { k: it.clientId, x: text, ts: it.ts, n: Date.now() });
    S.byClient[it.clientId] = it;
    if (S.phase === "closed") { S.phase = "idle"; render(); }
    addItem(it);
    sendItem(it);
    wantConnection();
  }

  function sendItem(it) {
    if (S.ready) send({ type: T.MESSAGE, client_id: it.clientId, text: it.text });
  }

  function retryItem(it) {
    it.state = "pending"; it.error = null;
    lsSet("out:" + it.clientId, { k: it.clientId, x: it.text, ts: it.ts, n: Date.now() });
    renderItem(it);
    sendItem(it);
    wantConnection();
  }

  function flushOutbox() {
    S.items.forEach(function (it) { if (it.kind === "m" && it.state === "pending") sendItem(it); });
  }

  function onAck(f) {
    var it = S.byClient[f.client_id];
    lsDel("out:" + f.client_id);
    if (!it || it.state === "sent") return;
    it.state = "sent";
    if (typeof f.seq === "number" && it.seq == null) it.seq = f.seq;
    renderItem(it);
  }

