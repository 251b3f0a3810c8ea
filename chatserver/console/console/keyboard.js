// Keyboard shortcuts across the console, and the help dialog that lists them.

import { h, modal } from "/console/ui.js";
import { state, ui } from "./state.js";
import { setTab } from "./chats.js";
import { moveSelection } from "./chatlist.js";
import { openTransfer } from "./transfer.js";

export function showHelp() {
  const rows = [
    [["Enter"], "send the reply"], [["Shift", "Enter"], "new line"], [["/"], "saved replies by shortcut (in the reply box)"],
    [["Tab"], "next blank to fill (Shift + Tab: previous)"], [["Alt", "↓"], "next chat (Alt + ↑: previous)"],
    [["Alt", "1–4"], "chats, reply box, suggestions, customer"], [["Alt", "T"], "transfer the chat"], [["Esc"], "close a list or dialog"],
  ];
  modal({
    title: "Keyboard shortcuts",
    body: h("table", { class: "keys" }, rows.map(([keys, what]) => h("tr", {},
      h("td", {}, keys.map((k, i) => [i ? " + " : "", h("kbd", { text: k })])), h("td", { text: what })))),
  });
}

export function installShortcuts() {
  document.addEventListener("keydown", (event) => {
    if (!ui.chatList || document.querySelector("dialog[open]")) return;
    if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      moveSelection(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (event.altKey && ["1", "2", "3", "4"].includes(event.key)) {
      event.preventDefault();
      const target = { 1: ["list", () => (ui.chatList.querySelector("button") || ui.queueList).focus()], 2: ["chat", () => ui.input.focus()], 3: ["replies", () => { const b = ui.replies.querySelector(".reply-btn") || ui.libSearch; if (b) b.focus(); }], 4: ["customer", () => { const f = ui.customer.querySelector("select, input, textarea, button"); if (f) f.focus(); }] }[event.key];
      setTab(target[0]);
      target[1]();
      return;
    }
    if (event.altKey && (event.key === "t" || event.key === "T")) {
      event.preventDefault();
      openTransfer(state.chats.get(state.active));
      return;
    }
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (!typing && event.key === "?") {
      event.preventDefault();
      showHelp();
    }
  });
}
