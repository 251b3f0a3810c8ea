  // --- storage (localStorage survives visits; the open/closed panel survives a reload) ------
  function lsGet(k) { try { return JSON.parse(localStorage.getItem(P + k)); } catch (e) { return null; } }
  function lsSet(k, v) { try { localStorage.setItem(P + k, JSON.stringify(v)); } catch (e) { /* full or blocked */ } }
  function lsDel(k) { try { localStorage.removeItem(P + k); } catch (e) { /* blocked */ } }
  function lsKeys(prefix) {
    var out = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf(P + prefix) === 0) out.push(k.slice(P.length));
      }
    } catch (e) { /* blocked */ }
    return out;
  }
  function ssGet(k) { try { return sessionStorage.getItem(P + k); } catch (e) { return null; } }
  function ssSet(k, v) { try { sessionStorage.setItem(P + k, v); } catch (e) { /* blocked */ } }

  function newId(prefix) {
    var r = window.crypto && crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "")
      : Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    return prefix + r;
  }

  // --- state -----------------------------------------------------------------------------
  var END_SEQ = 1e12, CARD_SEQ = 1e12 + 1, LOG_LIMIT = 200;
  var conv = lsGet("conv") || {};
  var S = {
    visitorId: lsGet("vid"), token: null,
    ws: null, ready: false, wantConnection: false, retry: 0, retryTimer: null, helloTimer: null,
    everReady: false, busy: false,
    cid: typeof conv.cid === "number" ? conv.cid : null,
    lastSeq: conv.last || 0, closed: !!conv.closed, left: !!conv.left,
    operator: conv.op || null, rate: conv.rate || null, wrap: conv.wrap || null,
    // The answer promised ("I'll find out"): {due, at} in server seconds, until the next operator message.
    cb: conv.cb && typeof conv.cb.due === "number" ? conv.cb : null, leaving: false, leaveError: false,
    // A chat that ended before this page load shows above a fresh, neutral header.
    phase: conv.cid != null && !conv.closed ? "waiting" : "idle",
    queue: null, transfer: null, hold: null,
    items: [], bySeq: {}, byClient: {}, order: 0,
    open: ssGet("open") === "1", unread: 0, opTyping: false, typingTimer: null,
    meTyping: false, meTypingTimer: null,
  };
  if (S.phase === "waiting" && S.operator) S.phase = "chatting";

  function saveConv() {
    lsSet("conv", { cid: S.cid, last: S.lastSeq, closed: S.closed, left: S.left, op: S.operator, rate: S.rate, wrap: S.wrap, cb: S.cb });
  }
  function saveLog() {
    var kept = S.items.filter(function (it) { return it.kind === "m" && it.seq != null && it.cid != null; })
      .slice(-LOG_LIMIT).map(function (it) {
        return { c: it.cid, s: it.seq, f: it.sender, x: it.text, ts: it.ts, k: it.clientId, a: it.author };
      });
    var ends = S.items.filter(function (it) { return it.kind === "end"; }).map(function (it) { return it.cid; });
    lsSet("log", { m: kept, e: ends.slice(-20) });
  }

