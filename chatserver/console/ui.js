// Shared helpers for the console and the admin pages. Plain ES module, no build step.
//
// Remote data only ever reaches the page through textContent, attribute values set with
// setAttribute (never on*), or form values: nothing here (or in the pages) writes innerHTML.

export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "style") Object.assign(node.style, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else if (key === "checked" || key === "disabled" || key === "selected" || key === "hidden") node[key] = Boolean(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

const ICONS = {
  bell: "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z",
  bellOff: "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zM19 16v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66a6.9 6.9 0 0 0-2.2.9L19 15.8zM3.3 2.3 2 3.6l3.3 3.3A7 7 0 0 0 5 11v5l-2 2v1h14.4l2.9 2.9 1.3-1.3z",
};

// A small inline SVG icon (built with DOM calls, like everything else).
export function icon(name, size = 18) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("fill", "currentColor");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function replace(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// --- HTTP ---------------------------------------------------------------------------------

export class ApiFailure extends Error {
  constructor(status, error) {
    super(error && error.message ? error.message : `HTTP ${status}`);
    this.status = status;
    this.code = (error && error.code) || "http_" + status;
    this.field = error ? error.field : undefined;
    this.entry = error ? error.entry : undefined;
    this.file = error ? error.file : undefined;
    this.error = error || {};
  }
}

export async function api(path, { method = "GET", body, token, raw = false, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = "Bearer " + token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiFailure(0, { code: "network", message: "The server cannot be reached. Check the connection." });
  }
  if (raw && response.ok) return response;
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      data = null;
    }
  }
  if (!response.ok) throw new ApiFailure(response.status, data && data.error);
  return data;
}

// --- sessions (sessionStorage: one tab, gone when the tab closes) --------------------------

export function loadSession(key) {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch (err) {
    return null;
  }
}

export function saveSession(key, value) {
  if (value === null) sessionStorage.removeItem(key);
  else sessionStorage.setItem(key, JSON.stringify(value));
}

// --- formatting ---------------------------------------------------------------------------

export function clock(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function day(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
}

export function dayTime(ts) {
  return ts ? `${day(ts)}, ${clock(ts)}` : "";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "unknown";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 && m < 5 ? " " + (s % 60) + " s" : ""}`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function money(value, currency) {
  if (value === null || value === undefined) return "";
  try {
    return new Intl.NumberFormat([], { style: "currency", currency: currency || "EUR" }).format(value);
  } catch (err) {
    return `${Number(value).toFixed(2)} ${currency || ""}`.trim();
  }
}

export function safeUrl(url) {
  // Only http(s) links become clickable.
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (err) {
    return null;
  }
}

// --- small widgets ------------------------------------------------------------------------

let toastBox = null;

export function toast(message, kind = "info", ms = 4000) {
  if (!toastBox) {
    toastBox = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(toastBox);
  }
  const item = h("div", { class: ["toast", kind] }, message);
  toastBox.appendChild(item);
  setTimeout(() => item.remove(), ms);
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

// A modal dialog on <dialog>: focus stays inside, Esc closes. Returns {dialog, close}.
export function modal({ title, body, actions = [], className = "", onClose }) {
  const dialog = h("dialog", { class: ["modal", className], "aria-label": title });
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (onClose) onClose();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) close();
  });
  const head = h("header", { class: "modal-head" }, h("h2", { text: title }),
    h("button", { class: "icon-btn", type: "button", "aria-label": "Close", title: "Close (Esc)", onclick: close }, "✕"));
  const foot = h("footer", { class: "modal-foot" }, actions);
  dialog.append(head, h("div", { class: "modal-body" }, body), foot);
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, close };
}

export function confirmDialog(title, text, okLabel = "OK", danger = false) {
  return new Promise((resolve) => {
    let answered = false;
    const ok = h("button", { class: ["btn", danger ? "danger" : "primary"], type: "button" }, okLabel);
    const cancel = h("button", { class: "btn", type: "button" }, "Cancel");
    const { close } = modal({
      title,
      body: h("p", { text }),
      actions: [cancel, ok],
      onClose: () => {
        if (!answered) resolve(false);
      },
    });
    ok.addEventListener("click", () => {
      answered = true;
      resolve(true);
      close();
    });
    cancel.addEventListener("click", close);
    ok.focus();
  });
}

// The sign-in card shared by both pages. Calls onSignedIn({token, operator}).
export function loginCard({ title, subtitle, note, onSignedIn }) {
  const email = h("input", { id: "login-email", type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert", id: "login-error" });
  const submit = h("button", { class: "btn primary wide", type: "submit" }, "Sign in");
  const form = h("form", { class: "login-card", novalidate: true },
    h("div", { class: "brand-row" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name", text: "Chatdesk" })),
    h("h1", { text: title }),
    subtitle ? h("p", { class: "muted", text: subtitle }) : null,
    h("label", { for: "login-email" }, "Email"), email,
    h("label", { for: "login-password" }, "Password"), password,
    error, submit,
    note ? h("p", { class: "muted small", text: note }) : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value || !password.value) {
      error.textContent = "Enter your email and password.";
      return;
    }
    submit.disabled = true;
    try {
      const data = await api("/api/operators/login", { method: "POST", body: { email: email.value, password: password.value } });
      await onSignedIn(data, (message) => { error.textContent = message; });
    } catch (err) {
      error.textContent = err.code === "invalid_credentials" ? "The email or password is wrong." : err.message;
    } finally {
      submit.disabled = false;
    }
  });
  setTimeout(() => email.focus(), 0);
  return h("main", { class: "login-screen" }, form);
}
