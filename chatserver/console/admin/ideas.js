// Ideas heard: the visitors' feature requests, deduplicated and counted, with their status.
// Marking one planned or done tells everyone who asked first, in their own chat.

import { h, replace, toast } from "/console/ui.js";
import { LANGUAGE_NAMES, ui } from "./state.js";
import { call } from "./session.js";
import { pageHead } from "./forms.js";

const STATUSES = [["new", "New"], ["planned", "Planned"], ["done", "Done"], ["declined", "Declined"]];
const TELLS = { planned: "we are working on it", done: "it is available" };
let filter = "";

export async function showIdeas() {
  const head = pageHead("Ideas heard", "Visitors' feature requests, counted with their near-duplicates. Marking one planned or done tells everyone who asked, first, in their own chat and language.");
  replace(ui.main, head, h("p", { class: "muted", text: "Loading…" }));
  let data;
  try {
    data = await call("/api/admin/ideas" + (filter ? `?status=${filter}` : ""));
  } catch (err) {
    replace(ui.main, head, h("div", { class: "empty card" }, h("strong", { text: "Ideas cannot be shown" }), h("p", { text: err.message })));
    return;
  }
  const filters = h("div", { class: "lang-tabs", role: "tablist", "aria-label": "Status" },
    [["", "All"], ...STATUSES].map(([value, label]) => h("button", {
      type: "button", role: "tab", class: ["lang-tab", value === filter && "on"], "aria-selected": String(value === filter),
      onclick: () => { filter = value; showIdeas(); },
    }, label)));
  const list = data.items.length ? h("ol", { class: "ideas-list" }, data.items.map(ideaCard))
    : h("div", { class: "empty card" }, h("strong", { text: "No ideas yet" }), h("p", { text: "They appear when an operator answers a feature request with a suggested reply, or marks a visitor message as an idea." }));
  replace(ui.main, head, filters, list);
}

function ideaCard(idea) {
  const select = h("select", { id: `idea-status-${idea.id}`, "aria-label": "Status" },
    STATUSES.map(([value, label]) => h("option", { value, selected: value === idea.status }, label)));
  select.addEventListener("change", async () => {
    const status = select.value;
    try {
      const changed = await call(`/api/admin/ideas/${idea.id}`, { method: "PATCH", body: { status } });
      toast(TELLS[status] && changed.told ? `Marked ${status}: ${changed.told} asker(s) told that ${TELLS[status]}.` : `Marked ${status}.`);
      showIdeas();
    } catch (err) {
      select.value = idea.status;
      toast(err.message, "error");
    }
  });
  const languages = idea.languages.map((code) => LANGUAGE_NAMES[code] || code).join(", ");
  return h("li", { class: "card idea", dataset: { idea: String(idea.id), status: idea.status } },
    h("div", { class: "row" },
      h("h2", { class: "grow", text: idea.summary }),
      h("span", { class: "badge", text: `${idea.count} asked` }),
      h("label", { class: "small muted", for: select.id, text: "Status " }), select),
    h("p", { class: "small muted", text: `${idea.visitors} visitor(s), ${idea.customers} signed-in customer(s); ${languages}` }),
    h("ul", { class: "idea-examples small" }, idea.examples.map((e) => h("li", { text: `“${e.text}” (chat ${e.conversation_id})` }))));
}
