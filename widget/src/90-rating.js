  // --- "anything else?": the visitor decides when the chat is done --------------------------
  var wrapCard = null;
  function hideWrapUp() {
    if (wrapCard) removeItem(wrapCard);
    wrapCard = null;
  }
  function showWrapUp() {
    hideWrapUp();
    var cid = S.wrap;
    var it = { kind: "card", cid: cid, seq: CARD_SEQ, el: h("li", { class: "card wrap-up" }) };
    it.order = ++S.order;
    wrapCard = it;
    var doneBtn = h("button", { class: "btn", type: "button", text: t("wrapDone") });
    var moreBtn = h("button", { class: "btn q", type: "button", text: t("wrapMore") });
    function answer(value) {
      send({ type: T.WRAP_UP_ANSWER, conversation_id: cid, answer: value });
      S.wrap = null;
      saveConv();
      hideWrapUp();
      if (value === "more") ui.input.focus();
    }
    doneBtn.addEventListener("click", function () { answer("done"); });
    moreBtn.addEventListener("click", function () { answer("more"); });
    it.el.appendChild(h("div", { class: "acts", role: "group" }, [moreBtn, doneBtn]));
    S.stick = true;
    place(it);
    scrollDown();
  }

  // --- rating and NPS when the chat ends ---------------------------------------------------
  var rating = null;
  function showRating() {
    if (rating) removeItem(rating);
    var cid = S.rate;
    var it = { kind: "card", cid: cid, seq: CARD_SEQ, el: h("li", { class: "card" }) };
    it.order = ++S.order;
    rating = it;
    var chosen = { r: null, n: null };
    var name = "cw-r" + cid;
    var stars = h("div", { class: "stars" });
    var starLabels = [];
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var input = h("input", { type: "radio", name: name + "s", value: n, "aria-label": t("star", { n: n }) });
        input.addEventListener("change", function () {
          chosen.r = n; submitBtn.disabled = false;
          starLabels.forEach(function (l, j) { l.classList.toggle("lit", j < n); });
        });
        var label = h("label", { class: "opt star" }, [input, h("span", { "aria-hidden": "true", text: "★" })]);
        starLabels.push(label);
        stars.appendChild(label);
      })(i);
    }
    var nps = h("div", { class: "nps" });
    for (var k = 0; k <= 10; k++) {
      (function (n) {
        var input = h("input", { type: "radio", name: name + "n", value: n });
        input.addEventListener("change", function () { chosen.n = n; });
        nps.appendChild(h("label", { class: "opt" }, [input, h("span", { text: String(n) })]));
      })(k);
    }
    var comment = h("textarea", { rows: "2", maxlength: "1000", "aria-label": t("comment"), placeholder: t("comment") });
    var submitBtn = h("button", { class: "btn", type: "button", disabled: true, text: t("submit") });
    var skipBtn = h("button", { class: "btn q", type: "button", text: t("skip") });
    var form = h("div", { role: "group", "aria-label": t("rateQ") }, [
      h("fieldset", null, [h("legend", { text: t("rateQ") }), stars]),
      h("fieldset", null, [h("legend", { text: t("npsQ") }), nps,
        h("div", { class: "scale", "aria-hidden": "true" }, [h("span", { text: "0 · " + t("npsLow") }), h("span", { text: t("npsHigh") + " · 10" })])]),
      comment,
      h("div", { class: "acts" }, [skipBtn, submitBtn]),
    ]);
    it.el.appendChild(form);
    function done(thanks) {
      S.rate = "done:" + cid;
      saveConv();
      it.el.textContent = "";
      if (thanks) {
        var p = h("p", { class: "thanks", role: "status", tabindex: "-1", text: t("thanks") });
        it.el.appendChild(p);
        p.focus();
      } else {
        removeItem(it);
        ui.input.focus();
      }
    }
    submitBtn.addEventListener("click", function () {
      var frame = { type: T.RATING, conversation_id: cid, rating: chosen.r, client_id: "rate-" + cid };
      if (chosen.n != null) frame.nps = chosen.n;
      var text = comment.value.trim();
      if (text) frame.comment = text;
      S.lastRating = frame;
      if (!send(frame)) rateOverRest();
      done(true);
    });
    skipBtn.addEventListener("click", function () { done(false); });
    S.stick = true;
    place(it);
    scrollDown();
  }

  function rateOverRest() {
    // The socket was down when the visitor rated: keep stars, NPS and comment over REST instead.
    var r = S.lastRating;
    if (!r || !S.token) return;
    S.lastRating = null;
    var body = { score: r.rating };
    if (r.nps != null) body.nps = r.nps;
    if (r.comment) body.comment = r.comment;
    fetch(ORIGIN + "/api/visitor/conversations/" + r.conversation_id + "/rating", {
      method: "POST", credentials: "omit", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + S.token },
    }).catch(function () { /* thanks were already shown; nothing more to do */ });
  }

