// Words in the reader's language: English or Korean (the product's first buyers are Korean).
//
// Every text a page shows comes from a message file: static/js/msg/{page}.{en,ko}.js, one
// object of key → text per language. A page registers its files (`register`), then asks for
// words with `t(key, vars)`: "{name}" in a text is replaced by vars.name. A key with a
// `count` picks "key.one" or "key.other" by the language's plural rules when "key" itself
// is not there (Korean needs only "key").
//
// The language: the one picked with the switcher (localStorage usher.lang), else the first
// of the browser's languages that we have, else English. Static HTML is translated through
// attributes: data-i18n="key" sets the text, data-i18n-attr="aria-label:key;title:key2" sets
// attributes. On a switch the page's static text is redone and `onLanguage` handlers redraw
// the rest (a page with none is reloaded: it keeps its state in storage).

export const LANGS = { en: "English", ko: "한국어" };
const LANG_KEY = "usher.lang";

const books = { en: {}, ko: {} };
const handlers = [];
let lang = pickLanguage();
document.documentElement.lang = lang;

function stored() {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null; // storage blocked (private mode): the browser's language
  }
}

/** The language to show: the stored choice, else the browser's first that we have. */
export function pickLanguage(choice = stored(), wanted = navigator.languages ?? [navigator.language]) {
  if (choice && Object.hasOwn(LANGS, choice)) return choice;
  for (const tag of wanted ?? []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (Object.hasOwn(LANGS, base)) return base;
  }
  return "en";
}

/** The language shown now: "en" or "ko". */
export function language() {
  return lang;
}

/** The BCP 47 locale for Intl formatting. */
export function locale() {
  return lang === "ko" ? "ko-KR" : "en-GB";
}

/** Adds a page's message files: register({en, ko}). */
export function register(bundle) {
  for (const l of Object.keys(LANGS)) Object.assign(books[l], bundle[l] ?? {});
}

function lookup(key, vars) {
  for (const l of [lang, "en"]) {
    const book = books[l];
    if (Object.hasOwn(book, key)) return book[key];
    if (vars && typeof vars.count === "number") {
      const rule = new Intl.PluralRules(l === "ko" ? "ko-KR" : "en-GB").select(vars.count);
      if (Object.hasOwn(book, `${key}.${rule}`)) return book[`${key}.${rule}`];
      if (Object.hasOwn(book, `${key}.other`)) return book[`${key}.other`];
    }
  }
  return null;
}

/** The words for `key` in the language shown, with {name} replaced from `vars`. A key no
 * file has is shown as itself, so that a missing text is seen (and found by the tests). */
export function t(key, vars) {
  const text = lookup(key, vars);
  if (text === null) return key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(vars, name) ? String(vars[name]) : m));
}

/** Translates the static text under `root`: data-i18n and data-i18n-attr. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = title.textContent;
}

/** Calls `fn()` after each switch of language, to redraw what the page drew itself. */
export function onLanguage(fn) {
  handlers.push(fn);
}

/** Shows the page in `next` ("en" or "ko") and remembers the choice in this browser. */
export function setLanguage(next) {
  if (!Object.hasOwn(LANGS, next) || next === lang) return;
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // not remembered: this page still switches
  }
  document.documentElement.lang = lang;
  for (const sel of document.querySelectorAll("select.lang-switch")) sel.value = lang;
  if (handlers.length === 0) {
    location.reload();
    return;
  }
  translate();
  for (const fn of handlers) fn();
}

/** The language switcher in the page's header: a labelled select of the languages. */
export function mountSwitcher(into = document.querySelector("header.site")) {
  if (!into || into.querySelector("select.lang-switch")) return;
  const label = document.createElement("label");
  label.className = "lang";
  const words = document.createElement("span");
  words.className = "visually-hidden";
  words.dataset.i18n = "common.language";
  words.textContent = t("common.language");
  const sel = document.createElement("select");
  sel.className = "lang-switch";
  sel.id = "lang";
  sel.dataset.testid = "lang";
  for (const [code, name] of Object.entries(LANGS)) {
    const o = document.createElement("option");
    o.value = code;
    o.lang = code;
    o.textContent = name;
    sel.append(o);
  }
  sel.value = lang;
  sel.addEventListener("change", () => setLanguage(sel.value));
  label.append(words, sel);
  into.append(label);
}
