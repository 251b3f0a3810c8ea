// What the admin pages know (one `state` object), the nodes they draw into (`ui`), and the
// fixed names they show: the library's situations and the languages.


export const SESSION_KEY = "chatdesk.admin";
export const LIBRARY = "default";
export const BASE = `/api/admin/libraries/${LIBRARY}`;
export const SITUATIONS = [
  ["cannot_do", "We can't do that"], ["defect", "Defective product"], ["out_of_stock", "Out of stock"],
  ["pointless_suggestion", "Feature request"], ["dont_know", "You don't know"], ["hater", "Angry visitor"],
  ["transfer", "Transfer"], ["ending", "Ending the chat"], ["general", "General (greeting, signature…)"],
];
export const SITUATION_NAME = Object.fromEntries(SITUATIONS);

export const LANGUAGE_NAMES = { en: "English", pl: "Polish", cs: "Czech", ru: "Russian", de: "German", sk: "Slovak", uk: "Ukrainian" };

export const state = {
  session: null,
  view: "replies",
  languages: [],
  language: "en",
  situation: "",
  query: "",
  replies: [],
  selected: null,
  variables: [],
  operators: [],
  teams: [],
  roles: ["operator", "admin", "supervisor"],
};
export const ui = {};

// Signing in starts the admin pages, which the page entry (admin.js) defines; it fills this in
// before it boots, so that the sign-in module need not import the entry.
export const hooks = { start: null };

export function languageName(code) {
  return LANGUAGE_NAMES[code] ? `${LANGUAGE_NAMES[code]} (${code})` : code;
}
