  // --- the socket ------------------------------------------------------------------------
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }

  function wantConnection() {
    S.wantConnection = true;
    connect();
  }

  function session() {
    var body = { locale: LOCALE, site_key: SITE_KEY || undefined };
    if (S.visitorId) body.visitor_id = S.visitorId;
    var identity = window.chatWidgetIdentity;
    if (identity && typeof identity === "object") body.identity = identity;
    return fetch(ORIGIN + "/api/visitor/sessions", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit",
    }).then(function (r) {
      if (r.status === 403) {
        return r.json().then(function (body) {
          var code = body && body.error && body.error.code;
          if (code === E.VISITOR_BLOCKED) blockedForGood();
          throw new Error("session 403");
        }, function () { throw new Error("session 403"); });
      }
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      unblocked();
      if (S.visitorId && data.visitor_id !== S.visitorId) resetVisitor();
      S.visitorId = data.visitor_id;
      S.token = data.token;
      lsSet("vid", data.visitor_id);
    });
  }

  function resetVisitor() {
    // The server does not know our stored visitor (a new database): its conversations are gone.
    S.items.filter(function (it) { return it.state !== "pending"; }).forEach(function (it) {
      removeItem(it);
      if (it.clientId) delete S.byClient[it.clientId];
    });
    S.bySeq = {};
    S.cid = null; S.lastSeq = 0; S.closed = false; S.left = false; S.operator = null; S.rate = null;
    S.phase = "idle";
    saveConv(); saveLog(); render();
  }

  function connect() {
    if (S.ws || S.busy || S.retryTimer || S.blocked) return;
    S.busy = true;
    var start = S.token ? Promise.resolve() : session();
    start.then(function () {
      S.busy = false;
      open();
    }, function () {
      S.busy = false;
      if (S.blocked) renderConn();
      else retryLater();
    });
  }

  function open() {
    var ws;
    try { ws = new WebSocket(WS_URL); } catch (e) { retryLater(); return; }
    S.ws = ws;
    ws.onopen = function () {
      var hello = { type: T.HELLO, token: S.token };
      if (S.cid != null && !S.closed) hello.resume = { conversation_id: S.cid, last_seq: S.lastSeq };
      ws.send(JSON.stringify(hello));
      S.helloTimer = setTimeout(function () { ws.close(); }, 15000);
    };
    ws.onmessage = function (e) {
      if (S.ws !== ws) return;
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (!f || typeof f !== "object" || typeof f.type !== "string") return;
      try { handle(f); } catch (err) { if (window.console) console.warn("chat widget:", err); }
    };
    ws.onclose = function (e) {
      clearTimeout(S.helloTimer);
      if (S.ws !== ws) return;
      S.ws = null;
      S.ready = false;
      if (e.code === CLOSE_UNAUTHORIZED) S.token = null;
      setOpTyping(false);
      if (e.code === CLOSE_BLOCKED) blockedForGood();
      if (S.blocked) { renderConn(); return; }
      retryLater();
    };
  }

  function retryLater() {
    renderConn();
    if (S.retryTimer) return;
    var base = Math.min(30000, 500 * Math.pow(2, S.retry));
    S.retry = Math.min(S.retry + 1, 10);
    S.retryTimer = setTimeout(function () { S.retryTimer = null; connect(); }, base / 2 + Math.random() * base / 2);
  }

  function reconnectNow() {
    if (!S.wantConnection || S.ws) return;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    connect();
  }

  function sendPage() {
    if (/^https?:$/.test(location.protocol)) send({ type: T.PAGE, url: location.href, title: document.title || "" });
  }

