  // --- leaving a message -----------------------------------------------------------------
  function leaveMessage() {
    if (S.cid == null) return;
    S.left = true;
    send({ type: T.LEAVE_MESSAGE, conversation_id: S.cid, client_id: "leave-" + S.cid });
    saveConv();
    render();
    ui.input.focus();
  }

