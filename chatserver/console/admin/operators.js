// Operators: the table of accounts with their presence, and the form to create or edit one.

import { h, modal, replace, toast } from "/console/ui.js";
import { state, ui } from "./state.js";
import { call } from "./session.js";
import { clearFieldErrors, fieldBox, pageHead, showFieldError } from "./forms.js";

export async function loadOperators() {
  try {
    const [ops, teams] = await Promise.all([call("/api/admin/operators"), call("/api/admin/teams")]);
    state.operators = ops.operators;
    state.roles = ops.roles;
    state.teams = teams.teams;
  } catch (err) {
    toast(err.message, "error");
  }
}

export async function showOperators() {
  ui.opTable = h("tbody", {});
  replace(ui.main,
    pageHead("Operators", "Accounts, roles, how many chats each takes at once, and their teams.",
      h("button", { class: "btn primary", type: "button", id: "new-operator", onclick: () => editOperator(null) }, "New operator")),
    h("div", { class: "card table-card" }, h("table", { class: "table", id: "operators" },
      h("thead", {}, h("tr", {}, ["Name", "Role", "Teams", "Chats", "Now", "Account", ""].map((t) => h("th", { text: t })))),
      ui.opTable)));
  await loadOperators();
  renderOperators();
}

function renderOperators() {
  if (!ui.opTable) return;
  replace(ui.opTable, state.operators.map((op) => h("tr", { class: op.active ? "" : "inactive", dataset: { id: String(op.id) } },
    h("td", {}, h("div", { class: "cell-name", text: op.name }), h("div", { class: "small muted", text: `${op.email}${op.title ? " · " + op.title : ""}` })),
    h("td", { dataset: { label: "Role" } }, h("span", { class: ["badge", op.role === "admin" ? "brand" : op.role === "supervisor" ? "warn" : ""], text: op.role })),
    h("td", { dataset: { label: "Teams" } }, op.teams.length ? op.teams.map((t) => h("span", { class: "badge team", text: t })) : h("span", { class: "muted small", text: "no team" })),
    h("td", { class: "num", dataset: { label: "Chats" }, text: `${op.presence.chats} / ${op.capacity}` }),
    h("td", { dataset: { label: "Now" } }, h("span", { class: "presence" }, h("span", { class: ["dot", op.presence.status] }), op.presence.status)),
    h("td", { dataset: { label: "Account" } }, op.active ? h("span", { class: "badge ok", text: "active" }) : h("span", { class: "badge bad", text: "off" })),
    h("td", { class: "actions" }, h("button", { class: "btn small", type: "button", onclick: () => editOperator(op) }, "Edit")))));
}

function editOperator(op) {
  const isNew = !op;
  const data = op || { email: "", name: "", title: "", role: "operator", capacity: 3, teams: [], active: true };
  const form = h("form", { class: "op-form", novalidate: true, id: "operator-form" });
  const email = h("input", { type: "email", id: "o-email", value: data.email, autocomplete: "off" });
  const name = h("input", { type: "text", id: "o-name", value: data.name });
  const title = h("input", { type: "text", id: "o-title", value: data.title, placeholder: "e.g. Customer care (signs replies)" });
  const role = h("select", { id: "o-role" }, state.roles.map((r) => h("option", { value: r, text: r, selected: r === data.role })));
  const capacity = h("input", { type: "number", id: "o-capacity", min: "0", max: "50", value: String(data.capacity) });
  const password = h("input", { type: "password", id: "o-password", autocomplete: "new-password", placeholder: isNew ? "at least 8 characters" : "leave empty to keep" });
  const chosen = new Set(data.teams);
  const teamBox = h("div", { class: "team-picks", id: "o-teams" });
  const newTeam = h("input", { type: "text", id: "o-new-team", placeholder: "New team name", "aria-label": "New team name" });
  const drawTeams = () => {
    const names = [...new Set([...state.teams.map((t) => t.name), ...chosen])].sort();
    replace(teamBox, names.length ? names.map((t) => {
      const box = h("input", { type: "checkbox", id: `team-${t}`, checked: chosen.has(t) });
      box.addEventListener("change", () => (box.checked ? chosen.add(t) : chosen.delete(t)));
      return h("label", { class: "team-pick", for: `team-${t}` }, box, t);
    }) : h("span", { class: "small muted", text: "No teams yet." }));
  };
  drawTeams();
  newTeam.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      if (newTeam.value.trim()) chosen.add(newTeam.value.trim());
      newTeam.value = "";
      drawTeams();
    }
  });
  const active = h("input", { type: "checkbox", id: "o-active", checked: data.active });
  const formError = h("div", { class: "form-error", role: "alert" });
  form.append(
    h("div", { class: "grid2" }, fieldBox("name", "Name", name), fieldBox("email", "Email (sign-in)", email)),
    h("div", { class: "grid2" }, fieldBox("title", "Title", title), fieldBox("role", "Role", role, "Admins manage this page; supervisors see every customer.")),
    h("div", { class: "grid2" }, fieldBox("capacity", "Chats at once", capacity), fieldBox("password", isNew ? "Password" : "New password", password)),
    fieldBox("teams", "Teams", teamBox, "Add a team: type its name and press Enter."), newTeam);
  if (!isNew) {
    form.append(h("div", { class: "field", dataset: { field: "active" } },
      h("label", { class: "check", for: "o-active" }, active, " Account active (turning it off signs them out and requeues their chats)"),
      h("p", { class: "field-error", role: "alert" })));
  }
  form.append(formError);
  const save = h("button", { class: "btn primary", type: "button", id: "o-save" }, isNew ? "Create" : "Save");
  const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
  const { close } = modal({ title: isNew ? "New operator" : `Edit ${data.name}`, body: form, actions: [cancel, save], className: "wide" });
  cancel.addEventListener("click", close);
  const submit = async () => {
    clearFieldErrors(form);
    formError.textContent = "";
    if (newTeam.value.trim()) chosen.add(newTeam.value.trim());
    const body = { name: name.value, email: email.value, title: title.value, role: role.value, capacity: Number(capacity.value), teams: [...chosen] };
    if (password.value) body.password = password.value;
    if (!isNew) body.active = active.checked;
    if (isNew && !password.value) {
      showFieldError(form, "password", "A new account needs a password.");
      return;
    }
    save.disabled = true;
    try {
      if (isNew) await call("/api/admin/operators", { method: "POST", body });
      else await call(`/api/admin/operators/${op.id}`, { method: "PATCH", body });
      toast(isNew ? "Operator created." : "Saved.", "ok");
      close();
      if (state.view === "operators") showOperators();
      else loadOperators();
    } catch (err) {
      save.disabled = false;
      if (!showFieldError(form, err.field, err.message)) formError.textContent = err.message;
    }
  };
  save.addEventListener("click", submit);
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  name.focus();
}
