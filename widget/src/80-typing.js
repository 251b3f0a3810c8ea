  // --- typing ----------------------------------------------------------------------------
  function setOpTyping(on) {
    clearTimeout(S.typingTimer);
    S.opTyping = on;
    ui.typing.hidden = !on;
    ui.typing.textContent = "";
    if (on) {
      ui.typing.appendChild(h("span", { class: "dots", "aria-hidden": "true" }, [h("i"), h("i"), h("i")]));
      ui.typing.appendChild(document.createTextNode(t("typing", { name: (S.operator && S.operator.name) || t("consultant") })));
      S.typingTimer = setTimeout(function () { setOpTyping(false); }, 8000);
    }
  }
  function typingNow() {
    if (S.phase !== "chatting" && S.phase !== "transfer") return;
    if (!S.meTyping && ui.input.value.trim()) { S.meTyping = true; send({ type: T.TYPING, on: true }); }
    clearTimeout(S.meTypingTimer);
    S.meTypingTimer = setTimeout(typingStop, 3000);
  }
  function typingStop() {
    clearTimeout(S.meTypingTimer);
    if (S.meTyping) { S.meTyping = false; send({ type: T.TYPING, on: false }); }
  }

