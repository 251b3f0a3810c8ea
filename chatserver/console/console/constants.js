// The console's fixed settings and the vocabularies it shows: storage keys, timings, the
// situations of a chat, customer segments, outcomes and the steps of a transfer.


export const SESSION_KEY = "chatdesk.console";
export const READ_KEY = "chatdesk.console.read";
export const QUEUE_POLL_MS = 4000;
export const TYPING_SHOW_MS = 6000;
export const TYPING_SEND_MS = 3000;
export const TYPING_IDLE_MS = 4000;
export const PHONE = window.matchMedia("(max-width: 760px)");

// The eight hard situations (docs/playbook.md#the-eight-hard-situations), with the structure each reply should follow.
export const SITUATIONS = {
  cannot_do: ["We can't do that", "Name the policy, give the reason, offer an alternative. Inform; don't apologise for a decision."],
  defect: ["Defective product", "Apologise, sympathise, take it on us, offer a replacement or refund now."],
  out_of_stock: ["Out of stock", "Lead with when it is back and an action (order now), not with the absence."],
  pointless_suggestion: ["Feature request", "Thank them, say an honest no, mention what is coming, promise they'll be first to know."],
  dont_know: ["You don't know", "Don't guess: say you'll find out, give a time frame, and see it through."],
  hater: ["Angry visitor", "Acknowledge, apologise, act. Tackle the problem, never the person; set boundaries calmly."],
  transfer: ["Transfer", "Say why you transfer and what they gain; announce the wait; keep them company meanwhile."],
  ending: ["Ending the chat", "Confirm the fix, ask if there is anything else; the customer decides when it's right."],
  general: ["General", ""],
};
export const SEGMENTS = {
  A: "A: among the best customers (the top share of all order value)",
  B: "B: promising, could become A",
  C: "C: small, steady customer",
  D: "D: many returns or complaints; costs time",
};
export const OUTCOMES = { served: ["Served", "ok"], unserved: ["Unserved", "bad"], open: ["Open", "brand"] };
export const TRANSFER_STATUS = {
  offering: "Looking for a colleague…",
  offered: "Offered to",
  queued: "Waiting for a free colleague in",
  next_operator: "The first colleague didn't take it; asking another…",
  accepted: "Accepted by",
  returned: "Nobody could take the chat; it stays with you.",
  cancelled: "Transfer cancelled; the chat stays with you.",
};
