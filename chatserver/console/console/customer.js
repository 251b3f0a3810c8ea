// The customer panel: who the visitor is, what they are viewing, their orders, open cases and
// past conversations, and the communication type, tags and notes operators keep about them.

import { api, day, dayTime, h, modal, money, replace, safeUrl, toast } from "/console/ui.js";
import { OUTCOMES, SEGMENTS, SITUATIONS } from "./constants.js";
import { state, ui } from "./state.js";
import { chatName, initials } from "./chats.js";
import { signOut } from "./signin.js";
import { messageItem } from "./fragments.js";
import { renderHead } from "./chatview.js";

export async function loadTypes() {
  if (state.types) return;
  try {
    state.types = await api("/api/customer-types", { token: state.session.token });
    renderCustomer();
  } catch (err) {
    if (err.status === 401) signOut("Your session has ended. Sign in again.");
  }
}

function section(title, ...children) {
  return h("section", { class: "cust-section" }, h("h3", { text: title }), children);
}

export function renderCustomer() {
  const chat = state.chats.get(state.active);
  if (!chat) {
    replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("p", { class: "muted pad", text: "Open a chat to see who you are talking to." }));
    return;
  }
  const c = chat.customer;
  if (!c) {
    replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("p", { class: "muted pad", text: "The customer's details could not be read." }));
    return;
  }
  const blocks = [];
  const name = c.name || (c.anonymous ? "Anonymous visitor" : chatName(chat));
  const facts = h("dl", { class: "facts" });
  const fact = (label, value) => {
    if (value === null || value === undefined || value === "") return;
    facts.append(h("dt", { text: label }), h("dd", {}, value));
  };
  fact("Email", c.email);
  fact("Customer id", c.external_id);
  fact("Language", (c.locale || (chat.visitor && chat.visitor.locale) || "").toUpperCase());
  fact("First seen", c.first_seen ? day(c.first_seen) : null);
  if (c.stats) {
    fact("Orders", `${c.stats.orders} · ${money(c.stats.order_value, (c.orders && c.orders[0] && c.orders[0].currency) || undefined)}`);
    fact("Returns, complaints", String(c.stats.returns_and_complaints));
  }
  if (c.ratings && c.ratings.count) fact("Ratings", `${"★".repeat(Math.round(c.ratings.average))} ${c.ratings.average.toFixed(1)} (${c.ratings.count})`);
  const badges = [];
  if (c.segment) badges.push(h("span", { class: ["badge", "segment", c.segment], title: SEGMENTS[c.segment], text: `Segment ${c.segment}` }));
  else if (!c.anonymous) badges.push(h("span", { class: "badge", title: "No orders yet", text: "No segment" }));
  if (c.first_contact) badges.push(h("span", { class: "badge ok", text: "First contact" }));
  if (c.anonymous) badges.push(h("span", { class: "badge", text: "Not signed in" }));
  blocks.push(h("div", { class: "cust-id" },
    h("span", { class: "avatar big", "aria-hidden": "true", text: initials(name) }),
    h("div", {}, h("strong", { class: "cust-name", text: name }), h("div", { class: "cust-badges" }, badges))));
  if (c.segment) blocks.push(h("p", { class: "small muted seg-note", text: SEGMENTS[c.segment] }));
  blocks.push(facts);

  if (c.page && c.page.url) {
    const href = safeUrl(c.page.url);
    blocks.push(section("Now viewing",
      href ? h("a", { class: "page-link", href, target: "_blank", rel: "noopener noreferrer", text: c.page.title || c.page.url }) : h("span", { text: c.page.title || c.page.url }),
      h("div", { class: "small muted ellipsis", text: c.page.url })));
  }

  blocks.push(profileEditor(chat, c));

  if (c.open_complaints && c.open_complaints.length) {
    blocks.push(section("Open returns and complaints", h("ul", { class: "plain" }, c.open_complaints.map((k) => h("li", { class: "case" },
      h("div", { class: "row" }, h("span", { class: "badge bad", text: k.kind }), h("strong", { text: k.id }), h("span", { class: "badge", text: k.status }), k.order_id ? h("span", { class: "small muted", text: k.order_id }) : null),
      k.text ? h("div", { class: "small", text: k.text }) : null)))));
  }
  if (c.orders && c.orders.length) {
    blocks.push(section("Orders", h("ul", { class: "plain orders" }, c.orders.map((o) => h("li", { class: "order" },
      h("div", { class: "row" }, h("strong", { text: o.order_id }), h("span", { class: ["badge", orderTone(o.status)], text: o.status }), h("span", { class: "spacer" }), h("span", { text: money(o.total, o.currency) })),
      h("div", { class: "small muted", text: `${o.placed_at ? day(o.placed_at) : ""}${o.items_count ? ` · ${o.items_count} item${o.items_count > 1 ? "s" : ""}` : ""}` }),
      o.items && o.items.length ? h("div", { class: "small", text: o.items.map((i) => `${i.name} ×${i.qty}`).join(", ") }) : null)))));
  } else if (!c.anonymous) {
    blocks.push(section("Orders", h("p", { class: "small muted", text: "No orders from the shop yet." })));
  }
  blocks.push(historySection(chat, c));

  replace(ui.customer, h("div", { class: "card-head" }, h("h2", { text: "Customer" })), h("div", { class: "card-body" }, blocks));
}

function orderTone(status) {
  const s = String(status).toLowerCase();
  if (["delivered", "completed", "paid", "shipped"].includes(s)) return "ok";
  if (["cancelled", "canceled", "refunded", "failed"].includes(s)) return "bad";
  return "warn";
}

function profileEditor(chat, c) {
  const editable = !c.anonymous && c.id !== null && c.id !== undefined;
  const wrap = h("section", { class: "cust-section profile" }, h("h3", { text: "Communication type" }));
  const types = state.types ? state.types.types : [];
  const families = state.types ? state.types.families : [];
  const select = h("select", { id: "cust-type", "aria-label": "Communication type", disabled: !editable },
    h("option", { value: "", text: "Not noted" }),
    families.map((f) => h("optgroup", { label: f.name }, types.filter((t) => t.family === f.id).map((t) => h("option", { value: t.id, text: `${t.name} (${t.seed_name})`, selected: c.type && c.type.id === t.id })))));
  const hint = h("div", { class: "hint-box", id: "type-hint" });
  const showHint = () => {
    const t = types.find((x) => x.id === select.value) || (select.value && c.type) || null;
    if (!t) {
      replace(hint, h("span", { class: "muted small", text: editable ? "Note how this customer communicates to get a handling hint." : "Available once the visitor signs in as a customer." }));
      return;
    }
    replace(hint, h("div", { class: "small muted", text: `Signs: ${t.signs}` }), h("div", {}, h("strong", { text: "Handle: " }), t.hint), t.derived ? h("div", { class: "small muted", text: "Hint derived from general rules." }) : null);
  };
  showHint();
  wrap.append(select, hint);
  if (!editable) {
    wrap.append(h("p", { class: "small muted", text: "Tags and notes are kept for signed-in customers only." }));
    return wrap;
  }
  const tags = [...(c.tags || [])];
  const tagBox = h("div", { class: "tags", id: "cust-tags" });
  const tagInput = h("input", { type: "text", id: "tag-input", placeholder: "Add a tag, Enter", "aria-label": "Add a tag", maxlength: "40" });
  const notes = h("textarea", { id: "cust-notes", rows: "3", maxlength: "4000", "aria-label": "Notes", value: c.notes || "", placeholder: "Notes for whoever talks to this customer next" });
  const save = h("button", { class: "btn small primary", type: "button", id: "cust-save", disabled: true }, "Save");
  const status = h("span", { class: "small muted save-status", role: "status" });
  const markDirty = () => {
    save.disabled = false;
    status.textContent = "Unsaved changes";
  };
  const drawTags = () => {
    replace(tagBox, tags.map((tag) => h("span", { class: "tag" }, tag,
      h("button", { type: "button", class: "tag-x", "aria-label": `Remove tag ${tag}`, onclick: () => { tags.splice(tags.indexOf(tag), 1); drawTags(); markDirty(); } }, "×"))), tagInput);
  };
  drawTags();
  tagInput.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === ",") && tagInput.value.trim()) {
      event.preventDefault();
      const tag = tagInput.value.trim().slice(0, 40);
      if (!tags.some((t) => t.toLowerCase() === tag.toLowerCase()) && tags.length < 20) tags.push(tag);
      tagInput.value = "";
      drawTags();
      markDirty();
      tagInput.focus();
    } else if (event.key === "Backspace" && !tagInput.value && tags.length) {
      tags.pop();
      drawTags();
      markDirty();
      tagInput.focus();
    }
  });
  select.addEventListener("change", () => { showHint(); markDirty(); });
  notes.addEventListener("input", markDirty);
  save.addEventListener("click", async () => {
    save.disabled = true;
    status.textContent = "Saving…";
    try {
      const body = { tags, type: select.value || null, notes: notes.value, version: c.version };
      const result = await api(`/api/customers/${c.id}`, { method: "PATCH", body, token: state.session.token });
      Object.assign(c, { tags: result.tags, type: result.type, notes: result.notes, version: result.version, updated_at: result.updated_at, updated_by: result.updated_by });
      status.textContent = "Saved";
      renderHead(chat);
    } catch (err) {
      save.disabled = false;
      if (err.code === "edit_conflict") {
        status.textContent = "";
        replace(status, "Someone else changed this profile. ", h("button", { type: "button", class: "btn small", onclick: () => reloadCustomer(chat) }, "Load their version"));
      } else {
        status.textContent = err.message;
      }
    }
  });
  wrap.append(h("h3", { text: "Tags" }), tagBox, h("h3", { text: "Notes" }), notes, h("div", { class: "save-row" }, save, status));
  if (c.updated_by) wrap.append(h("p", { class: "small muted", text: `Last edited by ${c.updated_by.name}${c.updated_at ? ", " + dayTime(c.updated_at) : ""}` }));
  return wrap;
}

async function reloadCustomer(chat) {
  const c = chat.customer;
  try {
    const fresh = await api(`/api/customers/${c.id}`, { token: state.session.token });
    chat.customer = { ...fresh, page: fresh.page || c.page };
    renderCustomer();
    renderHead(chat);
  } catch (err) {
    toast(err.message, "error");
  }
}

function historySection(chat, c) {
  const list = h("ul", { class: "plain history", id: "history" });
  const draw = (conversations) => {
    for (const conv of conversations) list.append(historyItem(chat, c, conv));
  };
  draw(c.conversations || []);
  const children = [list];
  if (!(c.conversations || []).length) children.push(h("p", { class: "small muted", text: "No earlier conversations." }));
  if (c.more_conversations) {
    const more = h("button", { class: "btn small", type: "button" }, "Older conversations");
    let before = c.conversations[c.conversations.length - 1].id;
    more.addEventListener("click", async () => {
      try {
        const base = c.anonymous ? `/api/visitors/${encodeURIComponent(c.visitor_id)}` : `/api/customers/${c.id}`;
        const page = await api(`${base}/conversations?before=${before}&limit=20`, { token: state.session.token });
        draw(page.conversations);
        if (page.next_before === null) more.remove();
        else before = page.next_before;
      } catch (err) {
        toast(err.message, "error");
      }
    });
    children.push(more);
  }
  const total = c.conversations_total ? ` (${c.conversations_total})` : "";
  return section(`Past conversations${total}`, children);
}

function historyItem(chat, c, conv) {
  const outcome = OUTCOMES[conv.outcome] || [conv.outcome, ""];
  const situation = conv.situation ? (SITUATIONS[conv.situation] || [conv.situation])[0] : null;
  return h("li", {}, h("button", { type: "button", class: "history-item", onclick: () => showTranscript(c, conv) },
    h("span", { class: "row" }, h("strong", { text: day(conv.created_at) }), h("span", { class: ["badge", outcome[1]], text: outcome[0] }),
      situation ? h("span", { class: "badge", text: situation }) : null,
      conv.rating ? h("span", { class: "small", title: conv.rating.comment || "", text: "★".repeat(conv.rating.score) }) : null),
    conv.opening ? h("span", { class: "small ellipsis2", text: `“${conv.opening}”` }) : null,
    h("span", { class: "small muted", text: `${conv.messages} messages${conv.handled_by && conv.handled_by.length ? " · " + conv.handled_by.map((o) => o.name).join(", ") : ""}` })));
}

async function showTranscript(c, conv) {
  const log = h("ol", { class: "log transcript" }, h("li", { class: "day", text: "Loading…" }));
  modal({ title: `Conversation of ${dayTime(conv.created_at)}`, body: log, className: "wide" });
  try {
    const base = c.anonymous ? `/api/visitors/${encodeURIComponent(c.visitor_id)}` : `/api/customers/${c.id}`;
    const page = await api(`${base}/conversations/${conv.id}/messages?limit=500`, { token: state.session.token });
    replace(log, page.messages.length ? page.messages.map(messageItem) : h("li", { class: "day", text: "No messages." }));
  } catch (err) {
    replace(log, h("li", { class: "day", text: err.message }));
  }
}
