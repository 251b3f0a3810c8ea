  function renderHeader() {
    var op = S.operator, title, sub, avatar = null, online = false;
    var q = S.queue;
    if (S.phase === "waiting" || (S.phase === "transfer" && !op)) {
      title = S.phase === "transfer" ? transferLine() : t("waiting");
      if (S.left) sub = t("leftShort");
      else if (q && q.estimated_wait_s == null) sub = t("offlineShort");
      else if (q) {
        var parts = [q.position === 1 ? t("next") : t("position", { n: q.position })];
        var w = waitText(q.estimated_wait_s, q.low_s, q.high_s);
        if (w) parts.push(w);
        sub = parts.join(" · ");
      } else sub = t("connecting");
    } else if (S.phase === "transfer") {
      title = op.name || t("consultant");
      var tr = q || S.transfer;
      var tw = tr ? waitText(tr.estimated_wait_s, tr.low_s, tr.high_s) : null;
      sub = transferLine() + (tw ? " · " + tw : "");
      avatar = initials(op.name);
      online = true;
    } else if (S.phase === "chatting" && op) {
      title = op.name || t("consultant");
      sub = op.title || t("consultant");
      avatar = initials(op.name);
      online = true;
    } else if (S.phase === "closed") {
      title = op && op.name ? op.name : script.getAttribute("data-title") || t("title");
      sub = t("ended");
      avatar = op && op.name ? initials(op.name) : null;
    } else {
      title = script.getAttribute("data-title") || t("title");
      sub = t("subtitle");
    }
    ui.title.textContent = title;
    ui.sub.textContent = sub;
    ui.avatar.textContent = "";
    if (avatar) ui.avatar.textContent = avatar;
    else ui.avatar.appendChild(icon(I_CHAT, 24));
    ui.avatar.classList.toggle("on", online);
    ui.input.placeholder = S.phase === "closed" ? t("placeholderNew") : t("placeholder");
  }

  function transferLine() {
    var to = S.transfer && S.transfer.to;
    return to && to.name ? t("transferringTo", { name: to.name }) : t("transferring");
  }

  function renderStatus() {
    var q = S.queue, show = false, text = "", spoken = "", off = false;
    if (S.phase === "waiting" || S.phase === "transfer") {
      var src = S.phase === "transfer" && S.transfer && !q ? S.transfer : q;
      var wait = src ? src.estimated_wait_s : undefined;
      if (S.left) { text = t("left"); show = true; }
      else if (q || S.transfer) {
        show = true;
        if (wait == null) { text = t("offline"); off = true; }
        else {
          var lead = S.phase === "transfer" ? transferLine() + "." : q.position === 1 ? t("next") + "." : t("position", { n: q.position }) + ".";
          // The header already shows position and wait; the live region says them for screen readers.
          spoken = lead + " " + t("waitLine", { w: waitText(wait, src.low_s, src.high_s) }) + " ";
          text = t("browse");
        }
      }
    }
    var promise = checkBackLine();
    if (promise && !(show && S.left)) {
      // The operator's promise: when the answer comes, in the visitor's language and clock.
      show = true; off = false; spoken = ""; text = promise;
    }
    ui.status.hidden = !show;
    ui.status.classList.toggle("cb", !!promise);
    ui.status.classList.toggle("off", off);
    if (ui.statusSr.textContent !== spoken) ui.statusSr.textContent = spoken;
    if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
    ui.leave.hidden = !(show && !promise && S.phase === "waiting" && !S.left && !S.leaving && S.cid != null);
    renderLeaveForm();
    ui.hold.hidden = !(show && S.hold);
    ui.hold.textContent = S.hold || "";
  }

  function renderConn() {
    var down = !S.blocked && S.wantConnection && !S.ready && (S.everReady || S.retry >= 2);
    ui.conn.hidden = !down;
    ui.conn.textContent = down ? t(S.everReady ? "reconnecting" : "connecting") : "";
  }

  function render() { renderHeader(); renderStatus(); renderConn(); }

