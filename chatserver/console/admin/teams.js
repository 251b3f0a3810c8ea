// Teams: adding one, their members, and deleting an empty one.

import { h, replace, toast } from "/console/ui.js";
import { state, ui } from "./state.js";
import { call } from "./session.js";
import { clearFieldErrors, pageHead, showFieldError } from "./forms.js";
import { loadOperators } from "./operators.js";

export async function showTeams() {
  const nameInput = h("input", { type: "text", id: "team-name", placeholder: "e.g. billing", maxlength: "100" });
  const error = h("p", { class: "field-error", role: "alert", id: "team-name-error" });
  const add = h("button", { class: "btn primary", type: "submit" }, "Add team");
  const form = h("form", { class: "team-form card", novalidate: true },
    h("div", { class: "field", dataset: { field: "name" } }, h("label", { for: "team-name" }, "New team"), h("div", { class: "row" }, nameInput, add), error));
  ui.teamList = h("div", { class: "team-grid", id: "teams" });
  replace(ui.main,
    pageHead("Teams", "A chat for a team goes to its members; chats without a team go to anyone online. Operators transfer chats to teams."),
    form, ui.teamList);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    try {
      await call("/api/admin/teams", { method: "POST", body: { name: nameInput.value } });
      nameInput.value = "";
      await loadOperators();
      renderTeams();
    } catch (err) {
      if (!showFieldError(form, err.field || "name", err.message)) toast(err.message, "error");
    }
  });
  await loadOperators();
  renderTeams();
}

function renderTeams() {
  if (!state.teams.length) {
    replace(ui.teamList, h("div", { class: "empty card" }, h("strong", { text: "No teams yet" }), h("p", { text: "Add a team to route and transfer chats to a group of operators." })));
    return;
  }
  replace(ui.teamList, state.teams.map((team) => {
    const members = team.members.map((id) => state.operators.find((o) => o.id === id)).filter(Boolean);
    return h("div", { class: "card team-card", dataset: { team: team.name } },
      h("div", { class: "row" }, h("h2", { class: "grow", text: team.name }), h("span", { class: "badge", text: `${team.active_members} active` })),
      members.length ? h("ul", { class: "plain members" }, members.map((m) => h("li", { class: "row" }, h("span", { class: ["dot", m.presence.status] }), h("span", { class: "grow", text: m.name }), h("span", { class: "small muted", text: m.active ? m.presence.status : "off" }))))
        : h("p", { class: "small muted", text: "No members." }),
      h("div", { class: "row end" }, h("button", {
        class: "btn small danger", type: "button", disabled: members.length > 0, title: members.length ? "Move its members to another team first" : "Delete this team",
        onclick: async () => {
          try {
            await call(`/api/admin/teams/${team.id}`, { method: "DELETE" });
            await loadOperators();
            renderTeams();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      }, "Delete")));
  }));
}
