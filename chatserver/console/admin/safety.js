// Abusive visitors: the blocks in force with an Unblock action, the cool-downs in force with an
// "End the break" action, and the audit trail of every boundary step (who, when, why).
// Every reversal is itself recorded in the trail, and supervisors are told of it.

import { confirmDialog, dayTime, h, replace, toast } from "/console/ui.js";
import { ui } from "./state.js";
import { call } from "./session.js";
import { pageHead } from "./forms.js";

const STEP_LABELS = {
  warn: "Warned", cool_down: "Cool-down", block: "Blocked", lift: "Unblocked", end_cool_down: "Break ended",
};

export async function showSafety() {
  const head = pageHead("Abusive visitors", "Blocks and cool-downs operators gave for insults, and every step of the protocol. Unblocking lets the visitor (and their signed-in customer) chat again.");
  replace(ui.main, head, h("p", { class: "muted", text: "Loading…" }));
  let blocks, coolDowns, audit;
  try {
    [blocks, coolDowns, audit] = await Promise.all([
      call("/api/admin/blocks"), call("/api/admin/cool_downs"), call("/api/admin/abuse_audit?limit=200"),
    ]);
  } catch (err) {
    replace(ui.main, head, h("div", { class: "empty card" }, h("strong", { text: "The audit cannot be shown" }), h("p", { text: err.message })));
    return;
  }
  const reasons = new Map();
  for (const a of audit.audit) if (a.block_id && a.step === "block") reasons.set(a.block_id, a);
  replace(ui.main, head,
    h("section", { class: "card safety-card" }, h("h2", { text: `Blocked now (${blocks.blocks.length})` }),
      blocks.blocks.length ? h("ul", { class: "safety-list", id: "blocks" }, blocks.blocks.map((b) => blockRow(b, reasons.get(b.id))))
        : h("p", { class: "muted", id: "no-blocks", text: "Nobody is blocked." })),
    h("section", { class: "card safety-card" }, h("h2", { text: `Cooling down now (${coolDowns.cool_downs.length})` }),
      coolDowns.cool_downs.length ? h("ul", { class: "safety-list", id: "cool-downs" }, coolDowns.cool_downs.map(coolRow))
        : h("p", { class: "muted", text: "No cool-down is on." })),
    h("section", { class: "card safety-card" }, h("h2", { text: "Audit trail" }),
      audit.audit.length ? auditTable(audit.audit) : h("p", { class: "muted", text: "No boundary step taken yet." })));
}

function who(visitorId) {
  return `Visitor ${String(visitorId).slice(0, 8)}`;
}

function blockRow(block, step) {
  const unblock = async () => {
    if (!(await confirmDialog("Unblock this visitor?", "They, and the customer signed in behind them, can open a chat again.", "Unblock"))) return;
    try {
      await call(`/api/admin/blocks/${block.id}`, { method: "DELETE" });
      toast("Unblocked: the visitor can chat again.", "ok");
    } catch (err) {
      toast(err.message, "error");
    }
    showSafety();
  };
  const by = step && step.operator_name ? ` by ${step.operator_name}` : "";
  return h("li", { class: "safety-row", dataset: { block: String(block.id), visitor: block.visitor_id } },
    h("div", { class: "grow" },
      h("strong", { text: who(block.visitor_id) }),
      block.customer_id ? h("span", { class: "badge", text: `customer #${block.customer_id}` }) : null,
      h("p", { class: "small muted", text: `Blocked ${dayTime(block.created_at)}${by}${block.conversation_id ? `, chat ${block.conversation_id}` : ""}` }),
      step && step.reason ? h("p", { class: "small", text: `“${step.reason}”` }) : null),
    h("button", { class: "btn", type: "button", id: `unblock-${block.id}`, onclick: unblock }, "Unblock"));
}

function coolRow(c) {
  const end = async () => {
    try {
      await call(`/api/admin/cool_downs/${encodeURIComponent(c.visitor_id)}`, { method: "DELETE" });
      toast("The break is over: the visitor can write again.", "ok");
    } catch (err) {
      toast(err.message, "error");
    }
    showSafety();
  };
  return h("li", { class: "safety-row", dataset: { visitor: c.visitor_id } },
    h("div", { class: "grow" }, h("strong", { text: who(c.visitor_id) }),
      h("p", { class: "small muted", text: `May write again at ${dayTime(c.until)}` })),
    h("button", { class: "btn", type: "button", onclick: end }, "End the break"));
}

function auditTable(rows) {
  return h("div", { class: "table-card" }, h("table", { class: "table", id: "audit" },
    h("thead", null, h("tr", null, ["When", "Step", "Visitor", "Chat", "By", "Why"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", null, rows.map((a) => h("tr", { dataset: { step: a.step } },
      h("td", { text: dayTime(a.ts) }),
      h("td", null, h("span", { class: ["badge", a.step === "block" && "bad"], text: STEP_LABELS[a.step] || a.step })),
      h("td", { text: who(a.visitor_id) }),
      h("td", { text: a.conversation_id ? String(a.conversation_id) : "" }),
      h("td", { text: a.operator_name || "" }),
      h("td", { text: [a.signal === "hater" ? "recognised as abusive, confirmed" : "", a.reason || ""].filter(Boolean).join(": ") }))))));
}
