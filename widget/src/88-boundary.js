  // --- the abusive visitor protocol: a cool-down says when one may write again; a block ends it ---
  var BOUNDARY_TEXTS = {
    en: { coolDown: "You can write again at {time}.", blocked: "This chat has been closed and cannot be reopened." },
    pl: { coolDown: "Możesz znów pisać o {time}.", blocked: "Ta rozmowa została zamknięta i nie można jej wznowić." },
  };
  function boundaryText(key, vars) {
    var s = (BOUNDARY_TEXTS[LANG] || BOUNDARY_TEXTS.en)[key] || BOUNDARY_TEXTS.en[key];
    return vars ? s.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; }) : s;
  }
  var coolTimer = null;
  function coolDownUntil(until) {
    if (typeof until !== "number" || !ui.input) return;
    var ms = until * 1000 - Date.now();
    clearTimeout(coolTimer);
    if (ms <= 0) return;
    var at = new Date(until * 1000);
    var time = String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0") +
      ":" + String(at.getSeconds()).padStart(2, "0");
    ui.input.disabled = true;
    ui.send.disabled = true;
    ui.input.placeholder = boundaryText("coolDown", { time: time });
    coolTimer = setTimeout(function () {
      ui.input.disabled = false;
      ui.input.placeholder = t("placeholder");
      ui.send.disabled = !ui.input.value.trim();
    }, ms);
  }
  function blockedForGood() {
    clearTimeout(coolTimer);
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    S.blocked = true;
    if (!ui.input) return;
    ui.input.disabled = true;
    ui.send.disabled = true;
    ui.input.placeholder = boundaryText("blocked");
  }
  HANDLERS[T.BOUNDARY] = function (f) {
    // The operator's words arrive as their stored message; this frame sets what the widget allows.
    if (f.step === "cool_down") coolDownUntil(f.until);
    else if (f.step === "block") blockedForGood();
  };
  var errorBeforeBoundary = HANDLERS[T.ERROR];
  HANDLERS[T.ERROR] = function (f) {
    if (f.code === E.COOLING_DOWN) coolDownUntil(f.until);
    if (f.code === E.VISITOR_BLOCKED) blockedForGood();
    errorBeforeBoundary(f);
  };
