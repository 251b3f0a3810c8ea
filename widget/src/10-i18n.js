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
      wrapDone: "No, that's all", wrapMore: "Yes, one more thing",
      checkBack: "We'll get back to you by {time}, right here.", leaveEmail: "Email for the answer (optional)",
      leaveHint: "We'll answer here; with an email we send the answer there too.", leaveSend: "Leave message",
      cancel: "Cancel", emailBad: "That email address doesn't look right. Check it, or leave the field empty.",
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
      wrapDone: "Nie, to wszystko", wrapMore: "Tak, jeszcze jedno",
      checkBack: "Odezwiemy się tutaj do {time}.", leaveEmail: "E-mail do odpowiedzi (opcjonalnie)",
      leaveHint: "Odpowiemy tutaj; jeśli podasz e-mail, wyślemy odpowiedź także na niego.", leaveSend: "Zostaw wiadomość",
      cancel: "Anuluj", emailBad: "Ten adres e-mail wygląda na błędny. Sprawdź go albo zostaw pole puste.",
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
      wrapDone: "Ne, to je vše", wrapMore: "Ano, ještě jedna věc",
      checkBack: "Ozveme se vám tady do {time}.", leaveEmail: "E-mail pro odpověď (nepovinné)",
      leaveHint: "Odpovíme tady; když zadáte e-mail, pošleme odpověď i tam.", leaveSend: "Zanechat zprávu",
      cancel: "Zrušit", emailBad: "Tato e-mailová adresa nevypadá správně. Zkontrolujte ji, nebo pole nechte prázdné.",
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
      wrapDone: "Нет, это всё", wrapMore: "Да, ещё один вопрос",
      checkBack: "Мы ответим вам здесь до {time}.", leaveEmail: "E-mail для ответа (необязательно)",
      leaveHint: "Мы ответим здесь; если укажете e-mail, отправим ответ и туда.", leaveSend: "Оставить сообщение",
      cancel: "Отмена", emailBad: "Этот адрес e-mail выглядит неверно. Проверьте его или оставьте поле пустым.",
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

