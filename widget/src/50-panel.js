  // --- the UI ----------------------------------------------------------------------------
  var ui = {};

  function build() {
    var host = h("div", { id: "chat-widget-host", "data-chat-widget": "" });
    host.style.cssText = "all:initial;position:fixed;z-index:2147483000;right:0;bottom:0;width:0;height:0;";
    var root = host.attachShadow({ mode: "open" });
    try {
      // A constructed sheet is not an inline style: it works under a strict style-src CSP.
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h("style", { text: CSS }));
    }
    var color = script.getAttribute("data-color");

    ui.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    ui.bubble = h("button", {
      class: "bubble", type: "button", "aria-label": t("open"), "aria-expanded": "false",
      "aria-controls": "cw-panel", onclick: function () { setOpen(!S.open); },
    }, [icon(I_CHAT), icon(I_DOWN), ui.badge]);

    ui.avatar = h("div", { class: "av", "aria-hidden": "true" });
    ui.title = h("h2", { id: "cw-title" });
    ui.sub = h("p", { id: "cw-sub" });
    ui.closeBtn = h("button", {
      class: "x", type: "button", "aria-label": t("close"), title: t("close"),
      onclick: function () { setOpen(false); },
    }, [icon(window.matchMedia && matchMedia("(max-width:480px)").matches ? I_CLOSE : I_DOWN, 22)]);
    var head = h("header", { class: "head" }, [ui.avatar, h("div", { class: "ht" }, [ui.title, ui.sub]), ui.closeBtn]);

    ui.statusSr = h("span", { class: "sr" });
    ui.statusText = h("p");
    ui.hold = h("p", { class: "hold", hidden: true });
    ui.leave = h("button", { class: "lm", type: "button", hidden: true, text: t("leave"), onclick: leaveMessage });
    ui.leaveForm = buildLeaveForm();
    ui.status = h("div", { class: "st", role: "status", "aria-live": "polite", hidden: true },
      [icon(I_CLOCK, 18), h("div", { class: "stb" }, [ui.statusSr, ui.statusText, ui.hold, ui.leave])]);
    ui.statusBox = ui.status.lastChild;
    ui.statusBox.appendChild(ui.leaveForm);
    ui.conn = h("div", { class: "conn", role: "status", hidden: true });

    ui.log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t("messages"), tabindex: "-1" });
    ui.greet = h("li", { class: "m g greet" }, [h("div", { class: "b", text: script.getAttribute("data-greeting") || t("greeting") })]);
    ui.log.appendChild(ui.greet);

    ui.typing = h("div", { class: "typing", "aria-live": "polite", hidden: true });

    ui.input = h("textarea", {
      id: "cw-input", rows: "1", maxlength: "4000", placeholder: t("placeholder"), "aria-label": t("messageLabel"),
      enterkeyhint: "send", autocomplete: "off",
    });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    ui.input.addEventListener("input", function () { grow(); ui.send.disabled = !ui.input.value.trim(); typingNow(); });
    ui.send = h("button", { class: "send", type: "submit", "aria-label": t("send"), title: t("send"), disabled: true }, [icon(I_SEND, 20)]);
    var form = h("form", { class: "comp", onsubmit: function (e) { e.preventDefault(); submit(); } }, [ui.input, ui.send]);

    ui.panel = h("section", {
      class: "panel", id: "cw-panel", role: "dialog", "aria-labelledby": "cw-title", "aria-describedby": "cw-sub", hidden: true,
    }, [head, ui.status, ui.conn, ui.log, ui.typing, form]);
    ui.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.stopPropagation(); setOpen(false); }
    });

    ui.wrap = h("div", { class: "cw", lang: LANG }, [ui.panel, ui.bubble]);
    if (color && /^#[0-9a-f]{3,8}$/i.test(color)) ui.wrap.style.setProperty("--a", color);
    root.appendChild(ui.wrap);
    document.body.appendChild(host);
    ui.host = host;
    ui.root = root;
  }

  function grow() {
    ui.input.style.height = "42px";
    ui.input.style.height = Math.min(132, Math.max(42, ui.input.scrollHeight + 2)) + "px";
  }

  function setOpen(open, quiet) {
    S.open = open;
    ssSet("open", open ? "1" : "0");
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle("open", open);
    ui.bubble.setAttribute("aria-expanded", open ? "true" : "false");
    ui.bubble.setAttribute("aria-label", open ? t("close") : t("open"));
    if (open) {
      S.unread = 0;
      renderBadge();
      if (!quiet) ui.input.focus();
      scrollDown(true);
      wantConnection();
    } else if (!quiet) {
      ui.bubble.focus();
    }
  }

  function renderBadge() {
    ui.badge.hidden = !S.unread;
    ui.badge.textContent = S.unread > 9 ? "9+" : String(S.unread);
    ui.bubble.setAttribute("aria-label", S.open ? t("close") : S.unread ? t("open") + " — " + t("unread", { n: S.unread }) : t("open"));
  }

