/*! Visitor chat widget. Plain JavaScript, no build step, no dependencies.
 *
 *   <script src="https://chat.example/widget.js" data-site-key="…" async></script>
 *
 * Optional attributes: data-locale="pl" (else the browser's language), data-color="#3557d4",
 * data-title="Northwind support". A shop that signs its customers in may set, before the tag,
 *   window.chatWidgetIdentity = {external_id, name, email, signature}
 * The server's origin comes from this script's own src. Everything renders in a shadow root,
 * and every remote string is set with textContent: nothing from the other side is parsed as HTML.
 */
(function () {
  "use strict";
  if (window.__chatWidget) return;

  // --- wire names: mirror chatserver/transport/frames.py (and docs/protocol.md) -------------
  var T = {
    HELLO: "hello", WELCOME: "welcome", ERROR: "error", ACK: "ack", MESSAGE: "message",
    TYPING: "typing", QUEUE: "queue", ASSIGNED: "assigned", TRANSFER: "transfer", CLOSED: "closed",
    PAGE: "page", RATING: "rating", LEAVE_MESSAGE: "leave_message", HOLD: "hold",
    TRANSFER_UPDATE: "transfer_update", MESSAGE_LEFT: "message_left", MESSAGE_ANSWERED: "message_answered",
  };
  var E = {
    UNKNOWN_TYPE: "unknown_type", TEXT_TOO_LONG: "text_too_long", INVALID_FIELD: "invalid_field",
    MISSING_FIELD: "missing_field", INTERNAL_ERROR: "internal_error",
  };
  var CLOSE_UNAUTHORIZED = 4401;

  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-site-key]') ||
    document.querySelector('script[src*="widget.js"]');
  if (!script) return;
  // The server is where this script came from: its origin, plus any path prefix a proxy adds
  // (https://shop.example/chat/widget.js talks to https://shop.example/chat/api/...).
  var ORIGIN = new URL(".", new URL(script.src, location.href)).href.replace(/\/$/, "");
  var WS_URL = ORIGIN.replace(/^http/, "ws") + "/ws/visitor";
  var SITE_KEY = script.getAttribute("data-site-key") || "";
  var P = "cw1:"; // storage prefix

  // --- texts -----------------------------------------------------------------------------
  var TEXTS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Chat with us", subtitle: "We reply right here",
      greeting: "Hi! How can we help you today?", placeholder: "Write a message…",
      placeholderNew: "Write to start a new chat…", send: "Send", messageLabel: "Message",
      waiting: "Waiting for a consultant", position: "Position {n} in line", next: "You're next in line",
      about: "about {m} min", aboutRange: "about {a}–{b} min", lessMin: "less than a minute",
      waitLine: "Expected wait: {w}.", browse: "We'll answer right here — feel free to keep browsing.",
      offline: "Nobody is online right now — your message is saved and we'll reply here.",
      offlineShort: "Nobody online right now", leave: "Leave a message instead of waiting",
      left: "Message left. We'll reply here — come back to this page any time to read it.",
      leftShort: "Message left — we'll reply here", transferring: "Connecting you to a colleague",
      transferringTo: "Connecting you to {name}", typing: "{name} is typing…", consultant: "Consultant", connecting: "Connecting…",
      reconnecting: "Connection lost. Reconnecting…", sending: "Sending…", failed: "Not sent",
      retry: "Retry", tooLong: "Too long to send", ended: "Chat ended",
      rateQ: "How would you rate this chat?", star: "{n} out of 5",
      npsQ: "How likely are you to recommend us to a friend?", npsLow: "Not likely",
      npsHigh: "Very likely", comment: "Anything you'd like to add? (optional)",
      submit: "Send feedback", skip: "No thanks", thanks: "Thank you for your feedback!",
      you: "You", info: "Info", unread: "New messages: {n}", messages: "Messages",
    },
    pl: {
      open: "Otwórz czat", close: "Zamknij czat", title: "Napisz do nas", subtitle: "Odpowiadamy właśnie tutaj",
      greeting: "Dzień dobry! W czym możemy pomóc?", placeholder: "Napisz wiadomość…",
      placeholderNew: "Napisz, aby rozpocząć nową rozmowę…", send: "Wyślij", messageLabel: "Wiadomość",
      waiting: "Czekamy na konsultanta", position: "Miejsce w kolejce: {n}", next: "Pierwsze miejsce w kolejce",
      about: "ok. {m} min", aboutRange: "ok. {a}–{b} min", lessMin: "niecała minuta",
      waitLine: "Szacowany czas oczekiwania: {w}.", browse: "Odpowiemy tutaj — w międzyczasie można dalej przeglądać sklep.",
      offline: "W tej chwili nikt nie jest dostępny — wiadomość jest zapisana, odpowiemy tutaj.",
      offlineShort: "Nikt nie jest teraz dostępny", leave: "Zostaw wiadomość zamiast czekać",
      left: "Wiadomość zostawiona. Odpowiemy tutaj — odpowiedź będzie czekać na tej stronie.",
      leftShort: "Wiadomość zostawiona — odpowiemy tutaj", transferring: "Łączymy z innym konsultantem", transferringTo: "Łączymy z: {name}",
      typing: "{name} pisze…", consultant: "Konsultant", connecting: "Łączenie…",
      reconnecting: "Utracono połączenie. Łączymy ponownie…", sending: "Wysyłanie…", failed: "Nie wysłano",
      retry: "Ponów", tooLong: "Wiadomość jest za długa", ended: "Rozmowa zakończona",
      rateQ: "Jak oceniasz tę rozmowę?", star: "{n} z 5",
      npsQ: "Jak bardzo prawdopodobne jest, że polecisz nas znajomym?", npsLow: "Mało prawdopodobne",
      npsHigh: "Bardzo prawdopodobne", comment: "Chcesz coś dodać? (opcjonalnie)",
      submit: "Wyślij ocenę", skip: "Nie, dziękuję", thanks: "Dziękujemy za opinię!",
      you: "Ty", info: "Informacja", unread: "Nowe wiadomości: {n}", messages: "Wiadomości",
    },
    cs: {
      open: "Otevřít chat", close: "Zavřít chat", title: "Napište nám", subtitle: "Odpovídáme přímo tady",
      greeting: "Dobrý den! S čím vám můžeme pomoci?", placeholder: "Napište zprávu…",
      placeholderNew: "Napište zprávu a začněte nový chat…", send: "Odeslat", messageLabel: "Zpráva",
      waiting: "Čekáme na konzultanta", position: "Pořadí ve frontě: {n}", next: "Jste první na řadě",
      about: "asi {m} min", aboutRange: "asi {a}–{b} min", lessMin: "méně než minuta",
      waitLine: "Předpokládaná doba čekání: {w}.", browse: "Odpovíme přímo tady — mezitím si klidně dál prohlížejte.",
      offline: "Právě teď není nikdo online — vaše zpráva je uložená a odpovíme tady.",
      offlineShort: "Právě teď není nikdo online", leave: "Zanechat zprávu místo čekání",
      left: "Zpráva zanechána. Odpovíme tady — odpověď si přečtete, až se na stránku vrátíte.",
      leftShort: "Zpráva zanechána — odpovíme tady", transferring: "Spojujeme vás s kolegou", transferringTo: "Spojujeme vás: {name}",
      typing: "{name} píše…", consultant: "Konzultant", connecting: "Připojování…",
      reconnecting: "Spojení ztraceno. Znovu se připojujeme…", sending: "Odesílání…", failed: "Neodesláno",
      retry: "Zkusit znovu", tooLong: "Zpráva je příliš dlouhá", ended: "Chat ukončen",
      rateQ: "Jak hodnotíte tento chat?", star: "{n} z 5",
      npsQ: "Jak pravděpodobné je, že nás doporučíte známým?", npsLow: "Nepravděpodobné",
      npsHigh: "Velmi pravděpodobné", comment: "Chcete ještě něco dodat? (nepovinné)",
      submit: "Odeslat hodnocení", skip: "Ne, děkuji", thanks: "Děkujeme za zpětnou vazbu!",
      you: "Vy", info: "Informace", unread: "Nové zprávy: {n}", messages: "Zprávy",
    },
    ru: {
      open: "Открыть чат", close: "Закрыть чат", title: "Напишите нам", subtitle: "Отвечаем прямо здесь",
      greeting: "Здравствуйте! Чем можем помочь?", placeholder: "Напишите сообщение…",
      placeholderNew: "Напишите, чтобы начать новый чат…", send: "Отправить", messageLabel: "Сообщение",
      waiting: "Ожидание консультанта", position: "Место в очереди: {n}", next: "Вы первый в очереди",
      about: "около {m} мин", aboutRange: "около {a}–{b} мин", lessMin: "меньше минуты",
      waitLine: "Ожидание: {w}.", browse: "Мы ответим здесь — а пока можно продолжать смотреть сайт.",
      offline: "Сейчас никого нет на связи — ваше сообщение сохранено, мы ответим здесь.",
      offlineShort: "Сейчас никого нет на связи", leave: "Оставить сообщение и не ждать",
      left: "Сообщение оставлено. Мы ответим здесь — ответ можно прочитать, вернувшись на эту страницу.",
      leftShort: "Сообщение оставлено — ответим здесь", transferring: "Соединяем с коллегой", transferringTo: "Соединяем: {name}",
      typing: "{name} печатает…", consultant: "Консультант", connecting: "Подключение…",
      reconnecting: "Связь потеряна. Переподключаемся…", sending: "Отправка…", failed: "Не отправлено",
      retry: "Повторить", tooLong: "Сообщение слишком длинное", ended: "Чат завершён",
      rateQ: "Как вы оцениваете этот чат?", star: "{n} из 5",
      npsQ: "Насколько вероятно, что вы порекомендуете нас знакомым?", npsLow: "Маловероятно",
      npsHigh: "Очень вероятно", comment: "Хотите что-то добавить? (необязательно)",
      submit: "Отправить оценку", skip: "Нет, спасибо", thanks: "Спасибо за отзыв!",
      you: "Вы", info: "Информация", unread: "Новые сообщения: {n}", messages: "Сообщения",
    },
  };

  function pickLanguage() {
    var wanted = [script.getAttribute("data-locale")].concat(navigator.languages || [], navigator.language);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split(/[-_]/)[0];
      if (TEXTS[code]) return code;
    }
    return "en";
  }
  var LANG = pickLanguage();
  var LOCALE = (navigator.languages && navigator.languages[0]) || navigator.language || LANG;
  if (String(LOCALE).toLowerCase().split(/[-_]/)[0] !== LANG) LOCALE = LANG;

  function t(key, vars) {
    var s = TEXTS[LANG][key] || TEXTS.en[key] || key;
    return vars ? s.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; }) : s;
  }

  function waitText(s, low, high) {
    if (typeof s !== "number") return null;
    if (typeof low === "number" && typeof high === "number" && high >= 60) {
      var a = Math.max(1, Math.round(low / 60)), b = Math.max(1, Math.round(high / 60));
      if (b > a) return t("aboutRange", { a: a, b: b });
    }
    if (s < 60) return t("lessMin");
    return t("about", { m: Math.round(s / 60) });
  }

  // --- storage (localStorage survives visits; the open/closed panel survives a reload) ------
  function lsGet(k) { try { return JSON.parse(localStorage.getItem(P + k)); } catch (e) { return null; } }
  function lsSet(k, v) { try { localStorage.setItem(P + k, JSON.stringify(v)); } catch (e) { /* full or blocked */ } }
  function lsDel(k) { try { localStorage.removeItem(P + k); } catch (e) { /* blocked */ } }
  function lsKeys(prefix) {
    var out = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf(P + prefix) === 0) out.push(k.slice(P.length));
      }
    } catch (e) { /* blocked */ }
    return out;
  }
  function ssGet(k) { try { return sessionStorage.getItem(P + k); } catch (e) { return null; } }
  function ssSet(k, v) { try { sessionStorage.setItem(P + k, v); } catch (e) { /* blocked */ } }

  function newId(prefix) {
    var r = window.crypto && crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "")
      : Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    return prefix + r;
  }

  // --- state -----------------------------------------------------------------------------
  var END_SEQ = 1e12, CARD_SEQ = 1e12 + 1, LOG_LIMIT = 200;
  var conv = lsGet("conv") || {};
  var S = {
    visitorId: lsGet("vid"), token: null,
    ws: null, ready: false, wantConnection: false, retry: 0, retryTimer: null, helloTimer: null,
    everReady: false, busy: false,
    cid: typeof conv.cid === "number" ? conv.cid : null,
    lastSeq: conv.last || 0, closed: !!conv.closed, left: !!conv.left,
    operator: conv.op || null, rate: conv.rate || null,
    // A chat that ended before this page load shows above a fresh, neutral header.
    phase: conv.cid != null && !conv.closed ? "waiting" : "idle",
    queue: null, transfer: null, hold: null,
    items: [], bySeq: {}, byClient: {}, order: 0,
    open: ssGet("open") === "1", unread: 0, opTyping: false, typingTimer: null,
    meTyping: false, meTypingTimer: null,
  };
  if (S.phase === "waiting" && S.operator) S.phase = "chatting";

  function saveConv() {
    lsSet("conv", { cid: S.cid, last: S.lastSeq, closed: S.closed, left: S.left, op: S.operator, rate: S.rate });
  }
  function saveLog() {
    var kept = S.items.filter(function (it) { return it.kind === "m" && it.seq != null && it.cid != null; })
      .slice(-LOG_LIMIT).map(function (it) {
        return { c: it.cid, s: it.seq, f: it.sender, x: it.text, ts: it.ts, k: it.clientId, a: it.author };
      });
    var ends = S.items.filter(function (it) { return it.kind === "end"; }).map(function (it) { return it.cid; });
    lsSet("log", { m: kept, e: ends.slice(-20) });
  }

  // --- DOM helpers (text only: no innerHTML anywhere) --------------------------------------
  function h(tag, props, kids) {
    var el = document.createElement(tag);
    if (props) for (var k in props) {
      var v = props[k];
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    if (kids) for (var i = 0; i < kids.length; i++) if (kids[i]) el.appendChild(kids[i]);
    return el;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function icon(d, size) {
    var s = document.createElementNS(SVG, "svg");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("width", size || 24); s.setAttribute("height", size || 24);
    s.setAttribute("aria-hidden", "true"); s.setAttribute("focusable", "false");
    var p = document.createElementNS(SVG, "path");
    p.setAttribute("d", d); p.setAttribute("fill", "currentColor");
    s.appendChild(p);
    return s;
  }
  var I_CHAT = "M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.6 3.4 6.1L4.6 21l4.3-2.3c1 .2 2 .3 3.1.3 5.5 0 10-3.6 10-8s-4.5-8-10-8zm-4 9.2a1.2 1.2 0 1 1 0-2.4 1.2 1.2 0 0 1 0 2.4zm4 0a1.2 1.2 0 1 1 0-2.4 1.2 1.2 0 0 1 0 2.4zm4 0a1.2 1.2 0 1 1 0-2.4 1.2 1.2 0 0 1 0 2.4z";
  var I_CLOSE = "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 0 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z";
  var I_DOWN = "M5.3 8.3a1 1 0 0 1 1.4 0L12 13.6l5.3-5.3a1 1 0 1 1 1.4 1.4l-6 6a1 1 0 0 1-1.4 0l-6-6a1 1 0 0 1 0-1.4z";
  var I_SEND = "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z";
  var I_CLOCK = "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 10.4 3.3 2a1 1 0 1 1-1 1.7l-3.8-2.3a1 1 0 0 1-.5-.8V7a1 1 0 1 1 2 0z";

  function initials(name) {
    var parts = String(name || "").trim().split(/\s+/).filter(Boolean);
    var out = parts.slice(0, 2).map(function (w) { return Array.from(w)[0] || ""; }).join("");
    return out.toUpperCase();
  }
  var timeFmt;
  try { timeFmt = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" }); } catch (e) { timeFmt = null; }
  function clock(ts) {
    var d = new Date(typeof ts === "number" ? ts * 1000 : Date.now());
    return timeFmt ? timeFmt.format(d) : d.toTimeString().slice(0, 5);
  }

  var CSS = [
    ":host{all:initial}",
    "[hidden]{display:none!important}",
    ".cw{--a:#3557d4;--a2:color-mix(in srgb,var(--a) 72%,#000);--fg:#1c2030;--mut:#646a7e;--bg:#f4f5f9;--line:#e2e5ee;",
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--fg);",
    "-webkit-font-smoothing:antialiased;text-align:left;direction:ltr;letter-spacing:normal;text-transform:none}",
    ".cw *,.cw *::before,.cw *::after{box-sizing:border-box;font-family:inherit}",
    ".cw button{font:inherit;text-transform:none;letter-spacing:normal;margin:0}",
    ".sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ".bubble{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;padding:0;",
    "background:var(--a);color:#fff;box-shadow:0 6px 24px rgba(20,30,80,.28);cursor:pointer;display:grid;place-items:center;",
    "transition:transform .15s ease,box-shadow .15s ease;z-index:1}",
    ".bubble:hover{transform:scale(1.06);box-shadow:0 8px 28px rgba(20,30,80,.34)}",
    ".bubble:focus-visible{outline:3px solid #fff;box-shadow:0 0 0 6px var(--a)}",
    ".bubble svg{width:30px;height:30px;transition:transform .2s ease,opacity .2s ease}",
    ".bubble svg+svg{position:absolute;opacity:0;transform:rotate(-90deg)}",
    ".cw.open .bubble svg:first-child{opacity:0;transform:rotate(90deg)}",
    ".cw.open .bubble svg+svg{opacity:1;transform:none}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#e5484d;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center;border:2px solid #fff}",
    ".panel{position:fixed;right:20px;bottom:96px;width:380px;height:min(640px,calc(100vh - 120px));min-height:360px;",
    "background:#fff;border-radius:16px;box-shadow:0 16px 56px rgba(20,30,80,.26),0 2px 8px rgba(20,30,80,.08);",
    "display:flex;flex-direction:column;overflow:hidden;animation:cwin .18s ease-out}",
    "@keyframes cwin{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}",
    ".head{background:linear-gradient(135deg,var(--a),var(--a2));color:#fff;padding:16px 12px 16px 16px;display:flex;gap:12px;align-items:center;flex:none}",
    ".av{width:42px;height:42px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;",
    "font-weight:600;font-size:15px;flex:none;position:relative}",
    ".av svg{width:24px;height:24px}",
    ".av.on::after{content:'';position:absolute;right:0;bottom:0;width:11px;height:11px;border-radius:50%;background:#3ecf8e;border:2px solid var(--a2)}",
    ".ht{flex:1;min-width:0}",
    ".ht h2{margin:0;font-size:16px;font-weight:600;line-height:1.3;color:#fff;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".ht p{margin:2px 0 0;font-size:13px;line-height:1.35;color:rgba(255,255,255,.88);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".x{background:transparent;border:0;color:#fff;width:36px;height:36px;border-radius:10px;cursor:pointer;display:grid;place-items:center;flex:none;padding:0}",
    ".x:hover{background:rgba(255,255,255,.16)}",
    ".x:focus-visible{outline:2px solid #fff;outline-offset:1px}",
    ".st{padding:10px 16px;background:#eef1fd;border-bottom:1px solid #dde3f8;font-size:13px;color:#28305a;display:flex;gap:10px;align-items:flex-start;flex:none}",
    ".st svg{flex:none;width:18px;height:18px;margin-top:1px;color:var(--a)}",
    ".st.off{background:#fff8e8;border-color:#f3e2b8;color:#5b4300}",
    ".st.off svg{color:#b07d00}",
    ".st p{margin:0}",
    ".st .hold{margin-top:4px;color:var(--mut)}",
    ".lm{margin-top:6px;background:none;border:0;padding:0;color:var(--a2);font-weight:600;text-decoration:underline;cursor:pointer;font-size:13px}",
    ".st.off .lm{color:#7a5600}",
    ".conn{padding:6px 16px;background:#fff1f0;color:#8c1d18;font-size:12px;flex:none}",
    ".log{flex:1;overflow-y:auto;margin:0;padding:16px 14px 8px;list-style:none;background:var(--bg);display:flex;flex-direction:column;gap:3px;overscroll-behavior:contain}",
    ".m{display:flex;flex-direction:column;max-width:82%;min-width:0}",
    ".m.v{align-self:flex-end;align-items:flex-end}",
    ".m.o,.m.g{align-self:flex-start;align-items:flex-start}",
    ".m.s{align-self:center;align-items:center;max-width:92%;margin:6px 0}",
    ".b{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;max-width:100%}",
    ".v .b{background:var(--a);color:#fff;border-bottom-right-radius:5px}",
    ".o .b,.g .b{background:#fff;color:var(--fg);border:1px solid var(--line);border-bottom-left-radius:5px}",
    ".s .b{background:#e9ebf2;color:#454b5e;font-size:12.5px;text-align:center;border-radius:12px;padding:7px 12px}",
    ".who{font-size:12px;color:var(--mut);margin:10px 0 3px 6px;font-weight:500}",
    ".meta{font-size:11px;color:var(--mut);margin:2px 6px 6px}",
    ".m.fail .meta{color:#c4322c}",
    ".rt{background:none;border:0;padding:0;margin-left:6px;color:#c4322c;text-decoration:underline;cursor:pointer;font-size:11px}",
    ".end{align-self:stretch;display:flex;align-items:center;gap:10px;color:var(--mut);font-size:12px;margin:10px 0}",
    ".end::before,.end::after{content:'';flex:1;height:1px;background:var(--line)}",
    ".card{align-self:stretch;background:#fff;border:1px solid var(--line);border-radius:14px;padding:14px;margin:6px 0 10px}",
    ".card fieldset{border:0;margin:0 0 12px;padding:0;min-width:0}",
    ".card legend{font-weight:600;font-size:13.5px;margin-bottom:8px;padding:0}",
    ".stars{display:flex;gap:4px}",
    ".opt{position:relative;display:inline-grid;place-items:center;cursor:pointer}",
    ".opt input{position:absolute;opacity:0;width:100%;height:100%;margin:0;cursor:pointer}",
    ".star span{font-size:28px;line-height:1;color:#d5d8e2;transition:color .1s}",
    ".star.lit span{color:#f5b400}",
    ".opt input:focus-visible+span{outline:2px solid var(--a);outline-offset:2px;border-radius:4px}",
    ".nps{display:grid;grid-template-columns:repeat(11,1fr);gap:3px}",
    ".nps .opt span{width:100%;min-width:0;height:30px;display:grid;place-items:center;border:1px solid var(--line);border-radius:7px;font-size:12.5px;background:#fff;color:var(--fg)}",
    ".nps .opt input:checked+span{background:var(--a);border-color:var(--a);color:#fff}",
    ".scale{display:flex;justify-content:space-between;font-size:11px;color:var(--mut);margin-top:4px}",
    ".card textarea{width:100%;border:1px solid var(--line);border-radius:10px;padding:8px 10px;font:inherit;font-size:13px;resize:vertical;min-height:56px;color:var(--fg);background:#fff}",
    ".card textarea:focus{outline:none;border-color:var(--a);box-shadow:0 0 0 3px rgba(53,87,212,.15)}",
    ".acts{display:flex;gap:8px;justify-content:flex-end;margin-top:10px}",
    ".btn{border:0;border-radius:10px;padding:8px 14px;font-weight:600;font-size:13px;cursor:pointer;background:var(--a);color:#fff}",
    ".btn:disabled{opacity:.45;cursor:default}",
    ".btn.q{background:transparent;color:var(--mut)}",
    ".btn:focus-visible{outline:2px solid var(--a);outline-offset:2px}",
    ".thanks{font-weight:600;text-align:center;margin:0}",
    ".typing{padding:0 18px 6px;font-size:12px;color:var(--mut);background:var(--bg);flex:none;min-height:0}",
    ".dots{display:inline-flex;gap:3px;margin-right:6px;vertical-align:middle}",
    ".dots i{width:5px;height:5px;border-radius:50%;background:#9aa0b3;animation:cwdot 1.2s infinite}",
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}",
    "@keyframes cwdot{0%,60%,100%{opacity:.3;transform:none}30%{opacity:1;transform:translateY(-3px)}}",
    ".comp{display:flex;gap:8px;align-items:flex-end;padding:10px 12px 12px;border-top:1px solid var(--line);background:#fff;flex:none}",
    ".comp textarea{flex:1;min-width:0;resize:none;border:1px solid var(--line);border-radius:21px;padding:10px 15px;font:inherit;",
    "line-height:20px;height:42px;max-height:132px;outline:none;background:#f9fafc;color:var(--fg);overflow-y:auto}",
    ".comp textarea::placeholder{color:#8d93a5}",
    ".comp textarea:focus{border-color:var(--a);background:#fff;box-shadow:0 0 0 3px rgba(53,87,212,.14)}",
    ".send{width:42px;height:42px;border-radius:50%;border:0;padding:0;background:var(--a);color:#fff;display:grid;place-items:center;cursor:pointer;flex:none}",
    ".send:disabled{background:#c9cedd;cursor:default}",
    ".send:focus-visible{outline:2px solid var(--a);outline-offset:2px}",
    ".send svg{width:20px;height:20px}",
    "@media (max-width:480px){.panel{top:0;left:0;right:0;bottom:0;width:auto;height:100%;min-height:0;border-radius:0;animation:none}",
    ".cw.open .bubble{display:none}.head{padding-top:max(14px,env(safe-area-inset-top))}",
    ".comp{padding-bottom:max(12px,env(safe-area-inset-bottom))}.comp textarea{font-size:16px}}",
    "@media (prefers-reduced-motion:reduce){.cw *{animation:none!important;transition:none!important}}",
  ].join("");

  // --- the UI ----------------------------------------------------------------------------
  var ui = {};

  function build() {
    var host = h("div", { id: "chat-widget-host", "data-chat-widget": "" });
    host.style.cssText = "all:initial;position:fixed;z-index:2147483000;right:0;bottom:0;width:0;height:0;";
    var root = host.attachShadow({ mode: "open" });
    try {
      // A constructed sheet is not an inline style: it works under a strict style-src CSP.
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h("style", { text: CSS }));
    }
    var color = script.getAttribute("data-color");

    ui.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    ui.bubble = h("button", {
      class: "bubble", type: "button", "aria-label": t("open"), "aria-expanded": "false",
      "aria-controls": "cw-panel", onclick: function () { setOpen(!S.open); },
    }, [icon(I_CHAT), icon(I_DOWN), ui.badge]);

    ui.avatar = h("div", { class: "av", "aria-hidden": "true" });
    ui.title = h("h2", { id: "cw-title" });
    ui.sub = h("p", { id: "cw-sub" });
    ui.closeBtn = h("button", {
      class: "x", type: "button", "aria-label": t("close"), title: t("close"),
      onclick: function () { setOpen(false); },
    }, [icon(window.matchMedia && matchMedia("(max-width:480px)").matches ? I_CLOSE : I_DOWN, 22)]);
    var head = h("header", { class: "head" }, [ui.avatar, h("div", { class: "ht" }, [ui.title, ui.sub]), ui.closeBtn]);

    ui.statusSr = h("span", { class: "sr" });
    ui.statusText = h("p");
    ui.hold = h("p", { class: "hold", hidden: true });
    ui.leave = h("button", { class: "lm", type: "button", hidden: true, text: t("leave"), onclick: leaveMessage });
    ui.status = h("div", { class: "st", role: "status", "aria-live": "polite", hidden: true },
      [icon(I_CLOCK, 18), h("div", null, [ui.statusSr, ui.statusText, ui.hold, ui.leave])]);
    ui.conn = h("div", { class: "conn", role: "status", hidden: true });

    ui.log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t("messages"), tabindex: "-1" });
    ui.greet = h("li", { class: "m g greet" }, [h("div", { class: "b", text: script.getAttribute("data-greeting") || t("greeting") })]);
    ui.log.appendChild(ui.greet);

    ui.typing = h("div", { class: "typing", "aria-live": "polite", hidden: true });

    ui.input = h("textarea", {
      id: "cw-input", rows: "1", maxlength: "4000", placeholder: t("placeholder"), "aria-label": t("messageLabel"),
      enterkeyhint: "send", autocomplete: "off",
    });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    ui.input.addEventListener("input", function () { grow(); ui.send.disabled = !ui.input.value.trim(); typingNow(); });
    ui.send = h("button", { class: "send", type: "submit", "aria-label": t("send"), title: t("send"), disabled: true }, [icon(I_SEND, 20)]);
    var form = h("form", { class: "comp", onsubmit: function (e) { e.preventDefault(); submit(); } }, [ui.input, ui.send]);

    ui.panel = h("section", {
      class: "panel", id: "cw-panel", role: "dialog", "aria-labelledby": "cw-title", "aria-describedby": "cw-sub", hidden: true,
    }, [head, ui.status, ui.conn, ui.log, ui.typing, form]);
    ui.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.stopPropagation(); setOpen(false); }
    });

    ui.wrap = h("div", { class: "cw", lang: LANG }, [ui.panel, ui.bubble]);
    if (color && /^#[0-9a-f]{3,8}$/i.test(color)) ui.wrap.style.setProperty("--a", color);
    root.appendChild(ui.wrap);
    document.body.appendChild(host);
    ui.host = host;
    ui.root = root;
  }

  function grow() {
    ui.input.style.height = "42px";
    ui.input.style.height = Math.min(132, Math.max(42, ui.input.scrollHeight + 2)) + "px";
  }

  function setOpen(open, quiet) {
    S.open = open;
    ssSet("open", open ? "1" : "0");
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle("open", open);
    ui.bubble.setAttribute("aria-expanded", open ? "true" : "false");
    ui.bubble.setAttribute("aria-label", open ? t("close") : t("open"));
    if (open) {
      S.unread = 0;
      renderBadge();
      if (!quiet) ui.input.focus();
      scrollDown(true);
      wantConnection();
    } else if (!quiet) {
      ui.bubble.focus();
    }
  }

  function renderBadge() {
    ui.badge.hidden = !S.unread;
    ui.badge.textContent = S.unread > 9 ? "9+" : String(S.unread);
    ui.bubble.setAttribute("aria-label", S.open ? t("close") : S.unread ? t("open") + " — " + t("unread", { n: S.unread }) : t("open"));
  }

  function renderHeader() {
    var op = S.operator, title, sub, avatar = null, online = false;
    var q = S.queue;
    if (S.phase === "waiting" || (S.phase === "transfer" && !op)) {
      title = S.phase === "transfer" ? transferLine() : t("waiting");
      if (S.left) sub = t("leftShort");
      else if (q && q.estimated_wait_s == null) sub = t("offlineShort");
      else if (q) {
        var parts = [q.position === 1 ? t("next") : t("position", { n: q.position })];
        var w = waitText(q.estimated_wait_s, q.low_s, q.high_s);
        if (w) parts.push(w);
        sub = parts.join(" · ");
      } else sub = t("connecting");
    } else if (S.phase === "transfer") {
      title = op.name || t("consultant");
      var tr = q || S.transfer;
      var tw = tr ? waitText(tr.estimated_wait_s, tr.low_s, tr.high_s) : null;
      sub = transferLine() + (tw ? " · " + tw : "");
      avatar = initials(op.name);
      online = true;
    } else if (S.phase === "chatting" && op) {
      title = op.name || t("consultant");
      sub = op.title || t("consultant");
      avatar = initials(op.name);
      online = true;
    } else if (S.phase === "closed") {
      title = op && op.name ? op.name : script.getAttribute("data-title") || t("title");
      sub = t("ended");
      avatar = op && op.name ? initials(op.name) : null;
    } else {
      title = script.getAttribute("data-title") || t("title");
      sub = t("subtitle");
    }
    ui.title.textContent = title;
    ui.sub.textContent = sub;
    ui.avatar.textContent = "";
    if (avatar) ui.avatar.textContent = avatar;
    else ui.avatar.appendChild(icon(I_CHAT, 24));
    ui.avatar.classList.toggle("on", online);
    ui.input.placeholder = S.phase === "closed" ? t("placeholderNew") : t("placeholder");
  }

  function transferLine() {
    var to = S.transfer && S.transfer.to;
    return to && to.name ? t("transferringTo", { name: to.name }) : t("transferring");
  }

  function renderStatus() {
    var q = S.queue, show = false, text = "", spoken = "", off = false;
    if (S.phase === "waiting" || S.phase === "transfer") {
      var src = S.phase === "transfer" && S.transfer && !q ? S.transfer : q;
      var wait = src ? src.estimated_wait_s : undefined;
      if (S.left) { text = t("left"); show = true; }
      else if (q || S.transfer) {
        show = true;
        if (wait == null) { text = t("offline"); off = true; }
        else {
          var lead = S.phase === "transfer" ? transferLine() + "." : q.position === 1 ? t("next") + "." : t("position", { n: q.position }) + ".";
          // The header already shows position and wait; the live region says them for screen readers.
          spoken = lead + " " + t("waitLine", { w: waitText(wait, src.low_s, src.high_s) }) + " ";
          text = t("browse");
        }
      }
    }
    ui.status.hidden = !show;
    ui.status.classList.toggle("off", off);
    if (ui.statusSr.textContent !== spoken) ui.statusSr.textContent = spoken;
    if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
    ui.leave.hidden = !(show && S.phase === "waiting" && !S.left && S.cid != null);
    ui.hold.hidden = !(show && S.hold);
    ui.hold.textContent = S.hold || "";
  }

  function renderConn() {
    var down = S.wantConnection && !S.ready && (S.everReady || S.retry >= 2);
    ui.conn.hidden = !down;
    ui.conn.textContent = down ? t(S.everReady ? "reconnecting" : "connecting") : "";
  }

  function render() { renderHeader(); renderStatus(); renderConn(); }

  // --- the message list ------------------------------------------------------------------
  function sortKey(it) {
    if (it.cid == null) return [Infinity, it.order];
    return [it.cid, it.seq == null ? END_SEQ - 1 : it.seq, it.order];
  }
  function before(a, b) {
    var x = sortKey(a), y = sortKey(b);
    for (var i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
    return false;
  }

  function place(it) {
    // Insert (or move) the item's node so the list stays ordered by conversation, then seq.
    var idx = S.items.indexOf(it);
    if (idx >= 0) S.items.splice(idx, 1);
    var at = S.items.length;
    while (at > 0 && before(it, S.items[at - 1])) at--;
    S.items.splice(at, 0, it);
    var next = S.items[at + 1];
    var ref = next ? next.el : null;
    if (it.el.parentNode !== ui.log || it.el.nextSibling !== ref) ui.log.insertBefore(it.el, ref);
  }

  function renderItem(it) {
    var el = it.el || (it.el = h("li"));
    el.textContent = "";
    if (it.kind === "end") {
      el.className = "end";
      el.textContent = t("ended");
      return el;
    }
    var cls = it.sender === "visitor" ? "v" : it.sender === "operator" ? "o" : "s";
    el.className = "m " + cls + (it.state === "failed" ? " fail" : "");
    if (it.cid != null) el.setAttribute("data-cid", it.cid);
    if (it.seq != null) el.setAttribute("data-seq", it.seq);
    if (it.clientId && it.sender === "visitor") el.setAttribute("data-client-id", it.clientId);
    var who = it.sender === "visitor" ? t("you") : it.sender === "operator" ? (it.author && it.author.name) || t("consultant") : t("info");
    if (it.sender === "operator") {
      var prev = S.items[S.items.indexOf(it) - 1];
      var same = prev && prev.sender === "operator" && prev.author && it.author && prev.author.name === it.author.name;
      var label = h("div", { class: "who", "aria-hidden": "true", text: who + (it.author && it.author.title ? " · " + it.author.title : "") });
      if (same) label.hidden = true;
      el.appendChild(label);
    }
    el.appendChild(h("span", { class: "sr", text: who + ": " }));
    el.appendChild(h("div", { class: "b", text: it.text }));
    if (it.sender !== "system") {
      var meta = h("div", { class: "meta" });
      if (it.state === "pending") meta.textContent = t("sending");
      else if (it.state === "failed") {
        meta.textContent = it.error === E.TEXT_TOO_LONG ? t("tooLong") : t("failed");
        if (it.error !== E.TEXT_TOO_LONG) meta.appendChild(h("button", { class: "rt", type: "button", text: t("retry"), onclick: function () { retryItem(it); } }));
      } else meta.textContent = clock(it.ts);
      el.appendChild(meta);
    }
    return el;
  }

  function nearBottom() { return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80; }
  function scrollDown(force) {
    if (force || S.stick) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function addItem(it) {
    S.stick = nearBottom() || it.sender === "visitor";
    if (it.order == null) it.order = ++S.order;
    if (!it.el) it.el = h("li");
    place(it);
    renderItem(it);
    if (it.sender === "operator") {
      // the name label depends on the neighbour: refresh the one after, too
      var next = S.items[S.items.indexOf(it) + 1];
      if (next && next.sender === "operator") renderItem(next);
    }
    scrollDown();
  }

  function removeItem(it) {
    var idx = S.items.indexOf(it);
    if (idx >= 0) S.items.splice(idx, 1);
    if (it.el && it.el.parentNode) it.el.parentNode.removeChild(it.el);
  }

  function addEnd(cid) {
    for (var i = 0; i < S.items.length; i++) if (S.items[i].kind === "end" && S.items[i].cid === cid) return;
    var it = { kind: "end", cid: cid, seq: END_SEQ };
    addItem(it);
  }

  function convSwitch(cid) {
    // A newer conversation than the one we knew: it starts from seq 0.
    if (S.cid != null && cid !== S.cid && S.closed) addEnd(S.cid);
    S.cid = cid; S.lastSeq = 0; S.closed = false; S.left = false;
    S.queue = null; S.transfer = null; S.hold = null;
    if (S.phase === "closed" || S.phase === "idle") S.phase = "waiting";
    seqAdvance();
    saveConv();
  }

  function seqAdvance() {
    while (S.bySeq[S.cid + ":" + (S.lastSeq + 1)]) S.lastSeq++;
  }

  function onMessage(f) {
    var cid = f.conversation_id, seq = f.seq;
    if (typeof cid !== "number" || typeof seq !== "number" || typeof f.text !== "string") return;
    var key = cid + ":" + seq;
    if (S.bySeq[key]) return; // already shown: a replay after resume, or another tab's echo
    if (S.cid == null || cid > S.cid) convSwitch(cid);
    var it = f.sender === "visitor" && f.client_id ? S.byClient[f.client_id] : null;
    var fresh = !it;
    if (!it) it = { kind: "m", clientId: f.sender === "visitor" ? f.client_id || null : null };
    it.cid = cid; it.seq = seq; it.sender = f.sender; it.text = f.text; it.ts = f.ts;
    it.author = f.author && typeof f.author === "object" ? { name: String(f.author.name || ""), title: String(f.author.title || "") } : null;
    it.state = "sent";
    S.bySeq[key] = it;
    if (it.clientId) { S.byClient[it.clientId] = it; lsDel("out:" + it.clientId); }
    addItem(it);
    if (cid === S.cid) { seqAdvance(); saveConv(); }
    saveLog();
    if (f.sender === "operator") {
      setOpTyping(false);
      if (it.author && it.author.name && cid === S.cid) {
        S.operator = it.author;
        if (S.phase === "waiting") S.phase = "chatting";
        saveConv();
        renderHeader();
      }
    }
    if (fresh && f.sender !== "visitor" && (!S.open || document.hidden)) { S.unread++; renderBadge(); }
  }

  // --- outgoing messages (kept in localStorage until acked; resent with the same client_id) -
  function submit() {
    var text = ui.input.value.replace(/\s+$/, "");
    if (!text.trim()) return;
    ui.input.value = "";
    grow();
    ui.send.disabled = true;
    typingStop();
    var it = { kind: "m", sender: "visitor", clientId: newId("w-"), text: text, ts: Date.now() / 1000, state: "pending", cid: null, seq: null };
    it.order = ++S.order;
    lsSet("out:" + it.clientId, { k: it.clientId, x: text, ts: it.ts, n: Date.now() });
    S.byClient[it.clientId] = it;
    if (S.phase === "closed") { S.phase = "idle"; render(); }
    addItem(it);
    sendItem(it);
    wantConnection();
  }

  function sendItem(it) {
    if (S.ready) send({ type: T.MESSAGE, client_id: it.clientId, text: it.text });
  }

  function retryItem(it) {
    it.state = "pending"; it.error = null;
    lsSet("out:" + it.clientId, { k: it.clientId, x: it.text, ts: it.ts, n: Date.now() });
    renderItem(it);
    sendItem(it);
    wantConnection();
  }

  function flushOutbox() {
    S.items.forEach(function (it) { if (it.kind === "m" && it.state === "pending") sendItem(it); });
  }

  function onAck(f) {
    var it = S.byClient[f.client_id];
    lsDel("out:" + f.client_id);
    if (!it || it.state === "sent") return;
    it.state = "sent";
    if (typeof f.seq === "number" && it.seq == null) it.seq = f.seq;
    renderItem(it);
  }

  // --- the socket ------------------------------------------------------------------------
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }

  function wantConnection() {
    S.wantConnection = true;
    connect();
  }

  function session() {
    var body = { locale: LOCALE, site_key: SITE_KEY || undefined };
    if (S.visitorId) body.visitor_id = S.visitorId;
    var identity = window.chatWidgetIdentity;
    if (identity && typeof identity === "object") body.identity = identity;
    return fetch(ORIGIN + "/api/visitor/sessions", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit",
    }).then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      if (S.visitorId && data.visitor_id !== S.visitorId) resetVisitor();
      S.visitorId = data.visitor_id;
      S.token = data.token;
      lsSet("vid", data.visitor_id);
    });
  }

  function resetVisitor() {
    // The server does not know our stored visitor (a new database): its conversations are gone.
    S.items.filter(function (it) { return it.state !== "pending"; }).forEach(function (it) {
      removeItem(it);
      if (it.clientId) delete S.byClient[it.clientId];
    });
    S.bySeq = {};
    S.cid = null; S.lastSeq = 0; S.closed = false; S.left = false; S.operator = null; S.rate = null;
    S.phase = "idle";
    saveConv(); saveLog(); render();
  }

  function connect() {
    if (S.ws || S.busy || S.retryTimer) return;
    S.busy = true;
    var start = S.token ? Promise.resolve() : session();
    start.then(function () {
      S.busy = false;
      open();
    }, function () {
      S.busy = false;
      retryLater();
    });
  }

  function open() {
    var ws;
    try { ws = new WebSocket(WS_URL); } catch (e) { retryLater(); return; }
    S.ws = ws;
    ws.onopen = function () {
      var hello = { type: T.HELLO, token: S.token };
      if (S.cid != null && !S.closed) hello.resume = { conversation_id: S.cid, last_seq: S.lastSeq };
      ws.send(JSON.stringify(hello));
      S.helloTimer = setTimeout(function () { ws.close(); }, 15000);
    };
    ws.onmessage = function (e) {
      if (S.ws !== ws) return;
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (!f || typeof f !== "object" || typeof f.type !== "string") return;
      try { handle(f); } catch (err) { if (window.console) console.warn("chat widget:", err); }
    };
    ws.onclose = function (e) {
      clearTimeout(S.helloTimer);
      if (S.ws !== ws) return;
      S.ws = null;
      S.ready = false;
      if (e.code === CLOSE_UNAUTHORIZED) S.token = null;
      setOpTyping(false);
      retryLater();
    };
  }

  function retryLater() {
    renderConn();
    if (S.retryTimer) return;
    var base = Math.min(30000, 500 * Math.pow(2, S.retry));
    S.retry = Math.min(S.retry + 1, 10);
    S.retryTimer = setTimeout(function () { S.retryTimer = null; connect(); }, base / 2 + Math.random() * base / 2);
  }

  function reconnectNow() {
    if (!S.wantConnection || S.ws) return;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    connect();
  }

  function sendPage() {
    if (/^https?:$/.test(location.protocol)) send({ type: T.PAGE, url: location.href, title: document.title || "" });
  }

  var HANDLERS = {};
  HANDLERS[T.WELCOME] = function (f) {
    clearTimeout(S.helloTimer);
    S.ready = true; S.everReady = true; S.retry = 0;
    if (typeof f.conversation_id === "number" && f.conversation_id !== S.cid) convSwitch(f.conversation_id);
    flushOutbox();
    sendPage();
    render();
  };
  HANDLERS[T.MESSAGE] = onMessage;
  HANDLERS[T.ACK] = onAck;
  HANDLERS[T.QUEUE] = function (f) {
    if (typeof f.conversation_id !== "number") return;
    if (S.cid == null || f.conversation_id > S.cid) convSwitch(f.conversation_id);
    if (f.conversation_id !== S.cid) return;
    S.queue = f;
    if (f.kind === "transfer") S.phase = "transfer";
    else if (f.kind === "queue" || S.phase !== "transfer") {
      // Waiting for a first (or, after a requeue, a new) operator.
      S.phase = "waiting"; S.transfer = null; S.operator = null;
    }
    saveConv();
    render();
  };
  HANDLERS[T.ASSIGNED] = function (f) {
    if (typeof f.conversation_id !== "number") return;
    if (S.cid == null || f.conversation_id > S.cid) convSwitch(f.conversation_id);
    if (f.conversation_id !== S.cid) return;
    var op = f.operator || {};
    S.operator = { name: String(op.name || ""), title: String(op.title || "") };
    S.phase = "chatting"; S.queue = null; S.transfer = null; S.hold = null; S.left = false;
    saveConv();
    render();
  };
  function num(v) { return typeof v === "number" ? v : null; }
  HANDLERS[T.TRANSFER] = function (f) {
    // The announcement itself arrives as a stored system message; this frame sets the status.
    if (f.conversation_id !== S.cid) return;
    S.phase = "transfer";
    var to = f.to && typeof f.to === "object" && typeof f.to.name === "string" ? { name: f.to.name } : null;
    S.transfer = { estimated_wait_s: num(f.estimated_wait_s), low_s: num(f.low_s), high_s: num(f.high_s), to: to };
    S.queue = null;
    render();
  };
  HANDLERS[T.TRANSFER_UPDATE] = function (f) {
    if (f.conversation_id !== S.cid) return;
    if (f.status === "returned" || f.status === "cancelled") {
      // The same operator stays; `assigned` follows and settles the header.
      S.transfer = null; S.queue = null; S.hold = null;
      if (S.operator) S.phase = "chatting";
    } else {
      S.phase = "transfer";
      S.transfer = { estimated_wait_s: num(f.estimated_wait_s), low_s: num(f.low_s), high_s: num(f.high_s), to: null };
      S.queue = null;
    }
    render();
  };
  HANDLERS[T.MESSAGE_LEFT] = function (f) {
    if (f.conversation_id !== S.cid) return;
    S.left = true;
    saveConv();
    render();
  };
  HANDLERS[T.HOLD] = function (f) {
    if (f.conversation_id != null && f.conversation_id !== S.cid) return;
    S.hold = typeof f.text === "string" ? f.text : null;
    renderStatus();
  };
  HANDLERS[T.TYPING] = function (f) {
    if (f.from === "operator" && (f.conversation_id == null || f.conversation_id === S.cid)) setOpTyping(!!f.on);
  };
  HANDLERS[T.CLOSED] = function (f) {
    var cid = f.conversation_id;
    if (typeof cid !== "number") return;
    addEnd(cid);
    if (cid === S.cid) {
      S.closed = true; S.phase = "closed"; S.queue = null; S.transfer = null; S.hold = null; S.left = false;
      setOpTyping(false);
      if (S.rate !== "done:" + cid) { S.rate = cid; showRating(); }
      saveConv();
      saveLog();
      render();
    }
  };
  HANDLERS[T.ERROR] = function (f) {
    var id = typeof f.client_id === "string" ? f.client_id : "";
    if (id.indexOf("rate-") === 0) { if (f.code === E.UNKNOWN_TYPE) rateOverRest(); return; }
    if (id.indexOf("leave-") === 0) {
      if (f.code !== E.UNKNOWN_TYPE) { S.left = false; saveConv(); render(); }
      return;
    }
    var it = S.byClient[id];
    if (it && it.state === "pending") {
      if (f.code === E.INTERNAL_ERROR) { setTimeout(function () { if (it.state === "pending") sendItem(it); }, 3000); return; }
      it.state = "failed"; it.error = f.code;
      lsDel("out:" + id);
      renderItem(it);
    }
  };

  function handle(f) {
    var fn = HANDLERS[f.type];
    if (fn) fn(f);
    // Unknown frames (newer servers) are ignored on purpose.
  }

  // --- typing ----------------------------------------------------------------------------
  function setOpTyping(on) {
    clearTimeout(S.typingTimer);
    S.opTyping = on;
    ui.typing.hidden = !on;
    ui.typing.textContent = "";
    if (on) {
      ui.typing.appendChild(h("span", { class: "dots", "aria-hidden": "true" }, [h("i"), h("i"), h("i")]));
      ui.typing.appendChild(document.createTextNode(t("typing", { name: (S.operator && S.operator.name) || t("consultant") })));
      S.typingTimer = setTimeout(function () { setOpTyping(false); }, 8000);
    }
  }
  function typingNow() {
    if (S.phase !== "chatting" && S.phase !== "transfer") return;
    if (!S.meTyping && ui.input.value.trim()) { S.meTyping = true; send({ type: T.TYPING, on: true }); }
    clearTimeout(S.meTypingTimer);
    S.meTypingTimer = setTimeout(typingStop, 3000);
  }
  function typingStop() {
    clearTimeout(S.meTypingTimer);
    if (S.meTyping) { S.meTyping = false; send({ type: T.TYPING, on: false }); }
  }

  // --- leaving a message -----------------------------------------------------------------
  function leaveMessage() {
    if (S.cid == null) return;
    S.left = true;
    send({ type: T.LEAVE_MESSAGE, conversation_id: S.cid, client_id: "leave-" + S.cid });
    saveConv();
    render();
    ui.input.focus();
  }

  // --- rating and NPS when the chat ends ---------------------------------------------------
  var rating = null;
  function showRating() {
    if (rating) removeItem(rating);
    var cid = S.rate;
    var it = { kind: "card", cid: cid, seq: CARD_SEQ, el: h("li", { class: "card" }) };
    it.order = ++S.order;
    rating = it;
    var chosen = { r: null, n: null };
    var name = "cw-r" + cid;
    var stars = h("div", { class: "stars" });
    var starLabels = [];
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var input = h("input", { type: "radio", name: name + "s", value: n, "aria-label": t("star", { n: n }) });
        input.addEventListener("change", function () {
          chosen.r = n; submitBtn.disabled = false;
          starLabels.forEach(function (l, j) { l.classList.toggle("lit", j < n); });
        });
        var label = h("label", { class: "opt star" }, [input, h("span", { "aria-hidden": "true", text: "★" })]);
        starLabels.push(label);
        stars.appendChild(label);
      })(i);
    }
    var nps = h("div", { class: "nps" });
    for (var k = 0; k <= 10; k++) {
      (function (n) {
        var input = h("input", { type: "radio", name: name + "n", value: n });
        input.addEventListener("change", function () { chosen.n = n; });
        nps.appendChild(h("label", { class: "opt" }, [input, h("span", { text: String(n) })]));
      })(k);
    }
    var comment = h("textarea", { rows: "2", maxlength: "1000", "aria-label": t("comment"), placeholder: t("comment") });
    var submitBtn = h("button", { class: "btn", type: "button", disabled: true, text: t("submit") });
    var skipBtn = h("button", { class: "btn q", type: "button", text: t("skip") });
    var form = h("div", { role: "group", "aria-label": t("rateQ") }, [
      h("fieldset", null, [h("legend", { text: t("rateQ") }), stars]),
      h("fieldset", null, [h("legend", { text: t("npsQ") }), nps,
        h("div", { class: "scale", "aria-hidden": "true" }, [h("span", { text: "0 · " + t("npsLow") }), h("span", { text: t("npsHigh") + " · 10" })])]),
      comment,
      h("div", { class: "acts" }, [skipBtn, submitBtn]),
    ]);
    it.el.appendChild(form);
    function done(thanks) {
      S.rate = "done:" + cid;
      saveConv();
      it.el.textContent = "";
      if (thanks) {
        var p = h("p", { class: "thanks", role: "status", tabindex: "-1", text: t("thanks") });
        it.el.appendChild(p);
        p.focus();
      } else {
        removeItem(it);
        ui.input.focus();
      }
    }
    submitBtn.addEventListener("click", function () {
      var frame = { type: T.RATING, conversation_id: cid, rating: chosen.r, client_id: "rate-" + cid };
      if (chosen.n != null) frame.nps = chosen.n;
      var text = comment.value.trim();
      if (text) frame.comment = text;
      S.lastRating = frame;
      if (!send(frame)) rateOverRest();
      done(true);
    });
    skipBtn.addEventListener("click", function () { done(false); });
    S.stick = true;
    place(it);
    scrollDown();
  }

  function rateOverRest() {
    // The socket was down when the visitor rated: keep stars, NPS and comment over REST instead.
    var r = S.lastRating;
    if (!r || !S.token) return;
    S.lastRating = null;
    var body = { score: r.rating };
    if (r.nps != null) body.nps = r.nps;
    if (r.comment) body.comment = r.comment;
    fetch(ORIGIN + "/api/visitor/conversations/" + r.conversation_id + "/rating", {
      method: "POST", credentials: "omit", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + S.token },
    }).catch(function () { /* thanks were already shown; nothing more to do */ });
  }

  // --- start -----------------------------------------------------------------------------
  function restore() {
    var log = lsGet("log") || {};
    (log.m || []).forEach(function (m) {
      if (typeof m.c !== "number" || typeof m.s !== "number" || typeof m.x !== "string") return;
      var key = m.c + ":" + m.s;
      if (S.bySeq[key]) return;
      var it = { kind: "m", cid: m.c, seq: m.s, sender: m.f, text: m.x, ts: m.ts, clientId: m.k || null, author: m.a || null, state: "sent" };
      S.bySeq[key] = it;
      if (it.clientId) S.byClient[it.clientId] = it;
      addItem(it);
    });
    (log.e || []).forEach(function (cid) { addEnd(cid); });
    var pending = lsKeys("out:").map(function (k) { return lsGet(k); }).filter(function (o) {
      return o && typeof o.k === "string" && typeof o.x === "string" && Date.now() - (o.n || 0) < 7 * 864e5;
    }).sort(function (a, b) { return a.n - b.n; });
    pending.forEach(function (o) {
      if (S.byClient[o.k]) { lsDel("out:" + o.k); return; }
      var it = { kind: "m", sender: "visitor", clientId: o.k, text: o.x, ts: o.ts, state: "pending", cid: null, seq: null };
      S.byClient[o.k] = it;
      addItem(it);
    });
    if (typeof S.rate === "number") showRating();
    return pending.length > 0;
  }

  function start() {
    build();
    var hasPending = restore();
    render();
    if (S.open) setOpen(true, true);
    renderBadge();
    // Connect at once only when there is something to resume or deliver; otherwise on first open.
    if (hasPending || (S.cid != null && !S.closed)) wantConnection();
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
    window.addEventListener("popstate", function () { if (S.ready) sendPage(); });
    window.addEventListener("hashchange", function () { if (S.ready) sendPage(); });
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  window.__chatWidget = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    version: "1",
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
