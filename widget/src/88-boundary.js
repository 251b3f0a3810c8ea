  // --- the abusive visitor protocol: the warning, a cool-down that says when one may write
  // again (input off meanwhile), and a block that ends it for good: no reconnecting, and a new
  // tab is refused its session (403 visitor_blocked) and shows the same notice -------------------
  var BOUNDARY_TEXTS = {
    en: { warn: "Please keep it respectful", coolDown: "You can write again at {time}.", left: "{left} left",
      blocked: "This chat has been closed and cannot be reopened." },
    pl: { warn: "Prosimy o kulturalną rozmowę", coolDown: "Możesz znów pisać o {time}.", left: "zostało {left}",
      blocked: "Ta rozmowa została zamknięta i nie można jej wznowić." },
    cs: { warn: "Prosíme o slušnou komunikaci", coolDown: "Znovu můžete psát v {time}.", left: "zbývá {left}",
      blocked: "Tento chat byl ukončen a nelze jej znovu otevřít." },
    ru: { warn: "Пожалуйста, будьте вежливы", coolDown: "Вы сможете снова писать в {time}.", left: "осталось {left}",
      blocked: "Этот чат закрыт, и его нельзя открыть снова." },
  };
  function boundaryText(key, vars) {
    var s = (BOUNDARY_TEXTS[LANG] || BOUNDARY_TEXTS.en)[key] || BOUNDARY_TEXTS.en[key];
    return vars ? s.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; }) : s;
  }
  var B = { warn: null, until: null, timer: null };
  function two(n) { return String(n).padStart(2, "0"); }
  function bndBox() {
    if (!ui.bnd) {
      ui.bndTitle = h("strong");
      ui.bndText = h("p");
      ui.bnd = h("div", { class: "bnd", role: "status", "aria-live": "polite", hidden: true }, [ui.bndTitle, ui.bndText]);
      ui.panel.insertBefore(ui.bnd, ui.log);
    }
    return ui.bnd;
  }
  function showBoundary(kind, title, text) {
    var box = bndBox();
    box.hidden = false;
    box.className = "bnd " + kind;
    box.setAttribute("data-step", kind);
    ui.bndTitle.textContent = title || "";
    ui.bndTitle.hidden = !title;
    ui.bndText.textContent = text || "";
  }
  function hideBoundary() { if (ui.bnd) ui.bnd.hidden = true; }
  // Header renders reset the composer; the boundary has the last word on it.
  var headerBeforeBoundary = renderHeader;
  renderHeader = function () { headerBeforeBoundary(); applyBoundary(); };
  function applyBoundary() {
    if (!ui.input) return;
    if (S.blocked) {
      ui.input.disabled = true; ui.send.disabled = true;
      ui.input.placeholder = boundaryText("blocked");
      showBoundary("end", "", boundaryText("blocked"));
      return;
    }
    var ms = B.until == null ? 0 : B.until * 1000 - Date.now();
    if (ms > 0) {
      var at = new Date(B.until * 1000), secs = Math.ceil(ms / 1000);
      var time = two(at.getHours()) + ":" + two(at.getMinutes());
      var left = Math.floor(secs / 60) + ":" + two(secs % 60);
      ui.input.disabled = true; ui.send.disabled = true;
      ui.input.placeholder = boundaryText("coolDown", { time: time });
      showBoundary("cool", boundaryText("coolDown", { time: time }), boundaryText("left", { left: left }));
      return;
    }
    if (ui.input.disabled) {
      ui.input.disabled = false;
      ui.send.disabled = !ui.input.value.trim();
    }
    if (B.warn != null && B.warn === S.cid && !S.closed) showBoundary("warn", boundaryText("warn"), B.text);
    else hideBoundary();
  }
  function coolDownUntil(until) {
    if (typeof until !== "number") return;
    B.until = until;
    clearInterval(B.timer);
    B.timer = setInterval(function () {
      if (B.until == null || B.until * 1000 <= Date.now()) { B.until = null; clearInterval(B.timer); B.timer = null; }
      applyBoundary();
    }, 1000);
    applyBoundary();
  }
  function coolDownOver() {
    B.until = null;
    clearInterval(B.timer);
    B.timer = null;
    applyBoundary();
  }
  function blockedForGood() {
    coolDownOver();
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    S.blocked = true;
    lsSet("blocked", true);
    renderConn();
    applyBoundary();
  }
  function unblocked() {
    // The server gave this visitor a session again: an admin lifted the block.
    if (!S.blocked && !lsGet("blocked")) return;
    S.blocked = false;
    lsDel("blocked");
    applyBoundary();
  }
  HANDLERS[T.BOUNDARY] = function (f) {
    // The operator's words arrive as their stored message; this frame sets what the widget allows.
    if (f.step === "warn") { B.warn = S.cid; B.text = typeof f.text === "string" ? f.text : ""; applyBoundary(); }
    else if (f.step === "cool_down") coolDownUntil(f.until);
    else if (f.step === "end_cool_down") coolDownOver();
    else if (f.step === "block") blockedForGood();
  };
  var errorBeforeBoundary = HANDLERS[T.ERROR];
  HANDLERS[T.ERROR] = function (f) {
    if (f.code === E.COOLING_DOWN) coolDownUntil(f.until);
    if (f.code === E.VISITOR_BLOCKED) blockedForGood();
    errorBeforeBoundary(f);
  };
