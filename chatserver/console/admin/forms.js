// The pieces every admin page and form uses: the page head, a labelled field with its hint
// and error line, and showing the server's field errors.

import { h } from "/console/ui.js";

export function pageHead(title, description, ...actions) {
  return h("div", { class: "page-head" },
    h("div", {}, h("h1", { text: title }), description ? h("p", { class: "muted", text: description }) : null),
    h("div", { class: "page-actions" }, actions));
}

export function fieldBox(id, label, control, hint) {
  return h("div", { class: "field", dataset: { field: id } },
    h("label", { for: control.id || undefined }, label), control,
    hint ? h("p", { class: "hint small muted", text: hint }) : null,
    h("p", { class: "field-error", id: `${control.id}-error`, role: "alert" }));
}

export function showFieldError(root, field, message) {
  const box = root.querySelector(`.field[data-field="${CSS.escape(field || "")}"]`);
  if (!box) return false;
  box.querySelector(".field-error").textContent = message;
  const control = box.querySelector("input, select, textarea");
  if (control) control.classList.add("invalid");
  return true;
}

export function clearFieldErrors(root) {
  root.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
  root.querySelectorAll(".invalid").forEach((node) => node.classList.remove("invalid"));
}
