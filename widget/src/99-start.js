  // --- start -----------------------------------------------------------------------------
  function restore() {
    var log = lsGet("log") || {};
    (log.m || []).forEach(function (m) {
      if (typeof m.c !== "number" || typeof m.s !== "number" || typeof m.x !== "string") return;
      var key = m.c + ":" + m.s;
      if (S.bySeq[key]) return;
      var it = { kind: "m", cid: m.c, seq: m.s, sender: m.f, text: m.x, ts: m.ts, clientId: m.k || null, author: m.a || null, state: "sent" };
      S.bySeq[key] = it;
      if (it.clientId) S.byClient[it.clientId] = it;
      addItem(it);
    });
    (log.e || []).forEach(function (cid) { addEnd(cid); });
    var pending = lsKeys("out:").map(function (k) { return lsGet(k); }).filter(function (o) {
      return o && typeof o.k === "string" && typeof o.x === "string" && Date.now() - (o.n || 0) < 7 * 864e5;
    }).sort(function (a, b) { return a.n - b.n; });
    pending.forEach(function (o) {
      if (S.byClient[o.k]) { lsDel("out:" + o.k); return; }
      var it = { kind: "m", sender: "visitor", clientId: o.k, text: o.x, ts: o.ts, state: "pending", cid: null, seq: null };
      S.byClient[o.k] = it;
      addItem(it);
    });
    if (typeof S.rate === "number") showRating();
    if (typeof S.wrap === "number" && S.wrap === S.cid && !S.closed) showWrapUp();
    return pending.length > 0;
  }

  function start() {
    build();
    var hasPending = restore();
    render();
    if (S.open) setOpen(true, true);
    renderBadge();
    // Connect at once only when there is something to resume or deliver; otherwise on first open.
    // A visitor blocked before asks again at once: the notice stands, or the block was lifted.
    if (hasPending || (S.cid != null && !S.closed) || lsGet("blocked")) wantConnection();
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
    window.addEventListener("popstate", function () { if (S.ready) sendPage(); });
    window.addEventListener("hashchange", function () { if (S.ready) sendPage(); });
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  window.__chatWidget = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    version: "1",
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
