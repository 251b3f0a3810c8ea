  // --- leaving a message -----------------------------------------------------------------
  // "Leave a message instead of waiting" opens a short form: an optional email for the answer,
  // checked here (and again by the server), then leave_message. The answer comes in this thread.
  var EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@.][^\s@]*$/;

  function buildLeaveForm() {
    ui.leaveEmail = h("input", {
      id: "cw-leave-email", type: "email", inputmode: "email", autocomplete: "email", maxlength: "320",
      "aria-describedby": "cw-leave-hint cw-leave-error",
    });
    ui.leaveEmail.addEventListener("input", function () { if (S.leaveError) { S.leaveError = false; renderLeaveForm(); } });
    ui.leaveEmail.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); submitLeave(); } });
    ui.leaveErr = h("p", { class: "lerr", id: "cw-leave-error", role: "alert", hidden: true });
    var form = h("form", { class: "lf", id: "cw-leave-form", novalidate: true, hidden: true, onsubmit: function (e) { e.preventDefault(); submitLeave(); } }, [
      h("label", { for: "cw-leave-email", text: t("leaveEmail") }), ui.leaveEmail,
      h("p", { class: "lhint", id: "cw-leave-hint", text: t("leaveHint") }), ui.leaveErr,
      h("div", { class: "acts" }, [
        h("button", { class: "btn q", type: "button", text: t("cancel"), onclick: function () { S.leaving = false; S.leaveError = false; render(); } }),
        h("button", { class: "btn", type: "submit", id: "cw-leave-send", text: t("leaveSend") }),
      ]),
    ]);
    return form;
  }

  function renderLeaveForm() {
    var show = S.leaving && !S.left && S.cid != null && S.phase === "waiting";
    ui.leaveForm.hidden = !show;
    ui.leaveErr.hidden = !S.leaveError;
    ui.leaveErr.textContent = S.leaveError ? t("emailBad") : "";
    if (S.leaveError) ui.leaveEmail.setAttribute("aria-invalid", "true");
    else ui.leaveEmail.removeAttribute("aria-invalid");
  }

  function leaveMessage() {
    if (S.cid == null) return;
    S.leaving = true;
    render();
    ui.leaveEmail.focus();
  }

  function submitLeave() {
    if (S.cid == null) return;
    var email = ui.leaveEmail.value.trim();
    if (email && !EMAIL_RE.test(email)) {
      S.leaveError = true;
      renderLeaveForm();
      ui.leaveEmail.focus();
      return;
    }
    var frame = { type: T.LEAVE_MESSAGE, conversation_id: S.cid, client_id: "leave-" + S.cid };
    if (email) frame.email = email;
    S.left = true; S.leaving = false; S.leaveError = false;
    send(frame);
    saveConv();
    render();
    ui.input.focus();
  }

  // --- the answer promised ("I'll find out"): shown until the operator's next message -----
  function checkBackLine() {
    return S.cb && !S.closed ? t("checkBack", { time: clock(S.cb.due) }) : "";
  }
