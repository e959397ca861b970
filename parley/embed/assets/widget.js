// Parley's comment widget: the body of the IIFE /embed.js serves, with PARLEY_CSS in scope.
// No build step, no framework, ES2020. It enhances the server-rendered thread fragment, so
// the widget and Parley's own pages share one template.

// Only set while this script first runs.
const script = document.currentScript || document.querySelector('script[src*="/embed.js"]');
const BASE = new URL(script.src).origin;
const REASONS = ["spam", "insult", "hate", "threat", "illegal", "off_topic", "other"];

// Every string the reader sees, in English; plurals keyed by Intl.PluralRules categories.
// Each thread fragment brings them in its language (parley/embed/strings.py), laid over
// these: only what shows before the first fragment (loading, network errors) stays English.
const STRINGS = {
  en: {
    loading: "Loading comments…",
    retry: "Try again",
    offline: "Comments could not be reached. Check your connection and try again.",
    failed: "Something went wrong. Please try again.",
    placeholder: "Would love your thoughts, please comment",
    comment: "Comment",
    replyTo: "Reply to {name}",
    markdown: "Markdown: **bold**, _italic_, [link](https://…), > quote",
    name: "Name",
    email: "E-mail",
    emailHint: "optional, never shown",
    website: "Website",
    optional: "optional",
    required: "This field is required.",
    post: "Post comment",
    postReply: "Post reply",
    cancel: "Cancel",
    reply: "Reply",
    up: "Vote up",
    down: "Vote down",
    votes: "{up} up, {down} down",
    voted: "Score {score}",
    report: "Report",
    reportWhy: "Why are you reporting this comment?",
    spam: "Spam or advertising",
    insult: "Insult or harassment",
    hate: "Hate against a group",
    threat: "Threat of violence",
    illegal: "Illegal content",
    off_topic: "Off topic",
    other: "Something else",
    chooseReason: "Choose a reason.",
    note: "Note",
    why: "Why is this content illegal?",
    notice: "A notice of illegal content under the EU Digital Services Act: the moderators need your name, your e-mail and your statement.",
    yourName: "Your name",
    yourEmail: "Your e-mail",
    goodFaith: "I confirm in good faith that the information in this notice is accurate and complete",
    sendReport: "Send report",
    reported: "Thank you. A moderator will look at this comment.",
    edit: "Edit",
    editLabel: "Edit your comment",
    save: "Save",
    del: "Delete",
    delAsk: "Delete this comment?",
    delYes: "Yes, delete",
    posted: "Comment posted",
    pending: "Awaiting moderation",
    leaveEmpty: "Leave this field empty",
    pendingSaid: "Thank you. Your comment will appear once a moderator has approved it.",
    saved: "Comment saved",
    deleted: "Comment deleted",
    deletedText: "This comment was deleted.",
    edited: "edited",
    inReplyTo: "in reply to {name}",
    notify: "Notify of",
    notifyThread: "new follow-up comments",
    notifyReplies: "new replies to my comments",
    subscribe: "Subscribe",
    delivery: "Send e-mail",
    instant: "at once",
    daily: "in a daily digest",
    follow: "Follow replies",
    signIn: "Sign in",
    sendLink: "E-mail me a link",
    signedIn: "Signed in as {name}",
    signOut: "Sign out",
    close: "Close",
    commentOn: "Comment on this",
    unquote: "Remove quote",
    quoted: "Passage quoted in your comment",
    loadedMore: "More comments loaded",
    count: { one: "{n} comment", other: "{n} comments" },
    viewReplies: { one: "View {n} reply", other: "View {n} replies" },
    fresh: { one: "{n} new comment", other: "{n} new comments" },
  },
};

let host, lang, T, plurals, dates, relative, worded;

// The floating prompt's own shadow root: fixed at the page's end corner, start-to-end safe.
const PROMPT_CSS =
  ":host{position:fixed;inset-block-end:1rem;inset-inline-end:1rem;z-index:2147483000;max-inline-size:calc(100vw - 2rem)}" +
  "div{display:flex;align-items:center;gap:.5rem;padding:.5rem .75rem;border-radius:.5rem;background:var(--parley-paper,#fff);color:var(--parley-ink,#1d2327);box-shadow:0 2px 12px #0005;font:15px/1.4 system-ui,sans-serif}" +
  "p{margin:0}button{font:inherit;cursor:pointer;border:0;border-radius:.3rem;padding:.3rem .7rem;background:var(--parley-accent,#0b6e99);color:#fff}" +
  "button+button{background:none;color:inherit;font-size:1.3rem;line-height:1;padding:.2rem .4rem}button:focus-visible{outline:2px solid var(--parley-accent,#0b6e99);outline-offset:2px}";

function setLanguage(tag) {
  try {
    plurals = new Intl.PluralRules(tag);
    dates = new Intl.DateTimeFormat(tag, { day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit" });
    relative = new Intl.RelativeTimeFormat(tag, { numeric: "auto" });
    lang = tag;
    T = { ...STRINGS.en };
  } catch {
    setLanguage("en"); // a tag Intl does not know
  }
}

// "3 hours ago" in the page's language for the last week, the date after that.
const STEPS = [["second", 60], ["minute", 60], ["hour", 24], ["day", 7]];
function when(iso) {
  const date = new Date(iso);
  let amount = (date - Date.now()) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return dates.format(date);
}

function stamp(time) {
  time.textContent = when(time.dateTime);
  time.title = dates.format(new Date(time.dateTime));
}

function t(key, vars = {}) {
  let text = T[key];
  if (text.other) text = text[plurals.select(vars.n)] || text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name]);
}

// --- helpers ------------------------------------------------------------------------------

function set(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "text") el.textContent = value;
    // Through the CSSOM, which a page's Content-Security-Policy allows; a style attribute
    // needs 'unsafe-inline' there.
    else if (key === "style") el.style.cssText = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  return el;
}

function h(tag, attrs = {}, ...children) {
  const el = set(document.createElement(tag), attrs);
  el.append(...children.filter((child) => child != null && child !== false));
  return el;
}

// Each shadow root gets its styles as a constructed stylesheet, shared by every root that
// uses the same CSS: unlike a <style> element, a page's Content-Security-Policy allows it
// without 'unsafe-inline'. Older browsers get the element.
const sheets = new Map();
function styled(root, css, ...children) {
  if (!("adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype)) {
    root.append(h("style", { text: css }), ...children);
    return root;
  }
  if (!sheets.has(css)) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    sheets.set(css, sheet);
  }
  root.adoptedStyleSheets = [sheets.get(css)];
  root.append(...children);
  return root;
}

const button = (label, act, attrs) => h("button", { type: "button", "data-act": act, ...attrs }, label);
const article = (li) => li.firstElementChild;
const part = (li, name) => article(li).querySelector(":scope>.parley-" + name);
const signed = (n) => (n > 0 ? "+" + n : "" + n);
const levelOf = (li) => +li.className.match(/parley-level-(\d+)/)[1];

function focusOn(el) {
  el.tabIndex = -1;
  el.focus();
}

// The host page's localStorage, "parley:"-prefixed; privacy modes may refuse it.
function stored(key, value) {
  try {
    key = "parley:" + key;
    if (value === undefined) return JSON.parse(localStorage.getItem(key));
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    return null;
  }
}

async function call(method, path, json, token, asReader) {
  const headers = {};
  const reader = stored("reader");
  // A plain GET stays a "simple" cross-origin request: loading costs no preflight.
  if (reader && (method !== "GET" || token || asReader)) headers["X-Parley-Reader"] = reader;
  // A signed-in reader is themselves everywhere, held comments included: no simple GETs.
  const session = stored("session");
  if (session) headers["X-Parley-Session"] = session;
  if (json) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    // On Parley's own pages the reader cookie is first-party: keep it, so that the page
    // rendered on the next visit knows the reader (and shows them their held comments).
    response = await fetch(BASE + path, { method, headers, body: json && JSON.stringify(json), credentials: BASE === location.origin ? "same-origin" : "omit" });
  } catch {
    throw { message: t("offline"), status: 0 };
  }
  const type = response.headers.get("Content-Type") || "";
  const data = response.status === 204 ? {} : type.includes("json") ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) throw { message: t("failed"), ...data.error, status: response.status };
  // No cookie crosses origins: this token is the reader's identity, keep the latest.
  const given = response.headers.get("X-Parley-Reader") || data.reader_token;
  if (given && given !== reader) stored("reader", given);
  return data;
}

function fillCounts() {
  const bySite = {};
  for (const badge of document.querySelectorAll("[data-parley-count]")) {
    const site = badge.closest("[data-site]")?.dataset.site || host?.dataset.site || script.dataset.site;
    if (site) (bySite[site] ||= []).push(badge);
  }
  for (const [site, badges] of Object.entries(bySite)) {
    const query = new URLSearchParams({ site });
    for (const uri of new Set(badges.map((b) => b.dataset.parleyCount))) query.append("uri", uri);
    // With a thread on the page, its fragment's strings first: badges in the page's language.
    Promise.all([call("GET", "/api/v1/counts?" + query), worded])
      .then(([{ counts }]) => badges.forEach((b) => (b.textContent = t("count", { n: counts[b.dataset.parleyCount] ?? 0 }))))
      .catch(() => {}); // a badge without its number beats a broken page
  }
}

// --- the funding bar ----------------------------------------------------------------------

// Each <div class="parley-campaign" data-campaign=…> shows its campaign's bar as Parley
// renders it, in the page's language (funding/bar.html): Parley's own pages come with it, a
// publisher's page gets it in the element's shadow root. It is asked for again every 30
// seconds while the page is on screen, and at once on coming back to it.
function campaigns() {
  const bars = [...document.querySelectorAll(".parley-campaign[data-campaign]")];
  const refresh = () => {
    if (document.hidden) return;
    const asked = {}; // one request for each campaign, however many bars show it
    for (const el of bars) {
      const slug = el.dataset.campaign;
      (asked[slug] ||= fetch(`${BASE}/support/${slug}/bar?lang=${lang}`).then((r) => (r.ok ? r.text() : Promise.reject())))
        .then((html) => {
          const template = h("template");
          template.innerHTML = html;
          const fresh = template.content.firstElementChild;
          const bar = el.shadowRoot?.lastChild || (el.querySelector(".parley-campaign-figures") && el);
          if (!bar) return styled(el.attachShadow({ mode: "open" }), PARLEY_CSS, fresh);
          const [was, is] = [bar, fresh].map((b) => b.querySelector(".parley-campaign-figures"));
          const [before, now] = [was, is].map((b) => b.querySelector("progress").getAttribute("aria-valuetext"));
          if (was.outerHTML === is.outerHTML) return;
          was.replaceWith(is);
          // When the money moves (not a day), said by the campaign's first bar only.
          if (now !== before && bars.find((b) => b.dataset.campaign === slug) === el) bar.querySelector("[role=status]").textContent = now;
        })
        .catch(() => {}); // the bar as it was beats a broken page
    }
  };
  if (!bars.length) return;
  refresh();
  setInterval(refresh, 3e4);
  document.addEventListener("visibilitychange", refresh);
}

// --- the widget ---------------------------------------------------------------------------

function mount(said) {
  const site = host.dataset.site || script.dataset.site;
  const uri = host.dataset.uri || location.pathname;
  const state = { sort: "newest", all: false, inline: false, loads: 0 };
  const root = host.attachShadow({ mode: "open" });
  const live = h("p", { class: "p-sr", role: "status" });
  const alert = h("p", { class: "p-alert", hidden: true });
  const box = h("div", { "aria-busy": "true" }, h("p", { class: "p-loading" }, t("loading")));
  const dir = /^(ar|he|fa|ur)\b/.test(lang) && "rtl";
  const wrap = h("div", { class: "p-wrap", lang, dir }, live, box);
  const key = site + uri; // this thread, in what the reader's browser remembers
  let thread = null; // the .parley-thread on show
  let waiting = []; // comments from the live stream, not yet shown
  let liveCount = 0;
  let ids = 0;
  let editMinutes = 15;
  let closed = false;
  let topForm = null; // the comment box above the thread
  let floating = null; // the prompt, once due
  let unprompt = () => {};
  let quotes = []; // quoted passages of comments not on show: { id, exact, prefix, suffix }
  let quoted = null; // the passage the top comment box answers: { quote, quote_prefix, quote_suffix }
  let formToken = ""; // signed time the comment box was first shown, for the bot checks
  let account; // the signed-in reader's { name, email, avatar }
  let ownComments = []; // the account's comments in this thread: theirs to edit and delete
  const bar = h("div", { class: "p-account" }, h("div")); // "Sign in", or who is signed in
  const byId = (id) => root.getElementById(id);
  styled(root, PARLEY_CSS, wrap);

  function announce(message) {
    live.textContent = "";
    setTimeout(() => (live.textContent = message), 50);
  }

  function showAlert(message = "") {
    alert.textContent = message;
    alert.hidden = !message;
    if (message) announce(message);
  }

  // A message under one comment, e.g. "This comment has been reported from here already."
  function note(li, message) {
    const art = article(li);
    (art.querySelector(":scope>.p-note") || art.appendChild(h("p", { class: "p-note" }))).textContent = message;
    announce(message);
  }

  // --- the thread -------------------------------------------------------------------------

  async function fetchThread(cursor) {
    // Parley's own page rendered the thread already: the first fragment costs no request.
    const served = !cursor && !thread && host.querySelector(":scope>.parley-thread");
    if (served) {
      formToken = host.querySelector("[name=form_token]")?.value || "";
      const query = new URLSearchParams(location.search);
      state.sort = served.dataset.sort || state.sort;
      state.all = query.has("all");
      state.inline = query.get("filter") === "inline";
      return enhance(served);
    }
    const query = new URLSearchParams({ site, uri, sort: state.sort, lang });
    if (state.all) query.set("all", 1);
    if (state.inline) query.set("filter", "inline");
    if (cursor) query.set("cursor", cursor);
    const template = h("template");
    // Once the reader has posted here, as themselves: their held comments show to them.
    template.innerHTML = await call("GET", "/fragments/thread?" + query, null, null, stored("posted:" + key));
    // The first box shown keeps the first token: how long the reader has been writing.
    formToken ||= template.content.querySelector("[name=form_token]")?.value || "";
    return enhance(template.content.querySelector(".parley-thread"));
  }

  async function load(then) {
    const mine = ++state.loads;
    box.setAttribute("aria-busy", "true");
    try {
      const fragment = await fetchThread();
      if (mine !== state.loads) return; // a later sort overtook this one
      const tabFocused = root.activeElement?.getAttribute("role") === "tab";
      const first = !thread;
      box.replaceChildren((thread = fragment));
      showAlert();
      if (first) start();
      if (tabFocused) byId("p-tab-" + state.sort).focus();
      showWaiting();
      highlight();
      then?.();
    } catch (error) {
      if (mine !== state.loads) return;
      if (thread) return showAlert(error.message);
      // Nothing on show yet, e.g. this page's origin is not allowed: say why, here.
      box.replaceChildren(h("p", { class: "p-error" }, error.message));
      if (!error.status || error.status >= 500) box.append(button(t("retry"), "retry"));
      announce(error.message);
    } finally {
      box.removeAttribute("aria-busy");
      said();
    }
  }

  function start() {
    if (!closed) box.before(notifyBox(), bar, (topForm = commentForm()));
    box.before(alert);
    // Live updates start when the reader reaches the thread, not with the page.
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      seen.disconnect();
      listen();
    });
    seen.observe(host);
    const target = location.hash.startsWith("#comment-") && byId(location.hash.slice(1));
    if (target) reveal(target);
    prompt();
    if (!closed) passages();
    // Comments past the first page quote passages too: their quotes, in one request.
    if (thread.dataset.nextCursor && document.querySelector("[data-parley-article]")) {
      call("GET", "/api/v1/threads?" + new URLSearchParams({ site, uri, filter: "inline", limit: 100 }))
        .then(({ comments }) => {
          quotes = comments.map((c) => ({ id: "" + c.id, exact: c.quote || "", ...c.quote_selector }));
          highlight();
        })
        .catch(() => {}); // the comments on show keep their highlights
    }
  }

  // --- comment on a passage: selecting text in the article offers "Comment on this" ------

  function passages() {
    const body = document.querySelector("[data-parley-article]");
    if (!body) return;
    const offer = h("div", { style: "position:absolute;z-index:2147483000" });
    const shadow = offer.attachShadow({ mode: "open" });
    const go = button(t("commentOn"), "go");
    styled(shadow, PROMPT_CSS, go);
    const clean = (text) => text.replace(/\s+/g, " ");
    let picked = null;
    let timer;
    // Mouse users keep their selection while they press it.
    go.addEventListener("mousedown", (event) => event.preventDefault());
    go.addEventListener("click", () => {
      offer.remove();
      if (picked) quote(picked);
    });
    document.addEventListener("selectionchange", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const selection = getSelection();
        const range = selection.rangeCount && selection.getRangeAt(0);
        const text = range && !selection.isCollapsed && body.contains(range.commonAncestorContainer) && clean(range.toString()).trim();
        if (!text) {
          if (shadow.activeElement !== go) offer.remove();
          return;
        }
        const around = document.createRange();
        around.selectNodeContents(body);
        around.setEnd(range.startContainer, range.startOffset);
        const quote_prefix = clean(around.toString()).slice(-32);
        around.selectNodeContents(body);
        around.setStart(range.endContainer, range.endOffset);
        picked = { quote: text, quote_prefix, quote_suffix: clean(around.toString()).slice(0, 32) };
        // Below the selection, after the article in the page's tab order.
        const r = range.getBoundingClientRect();
        body.after(offer);
        const parent = offer.offsetParent;
        const from = parent && getComputedStyle(parent).position !== "static" ? parent.getBoundingClientRect() : { left: -scrollX, top: -scrollY };
        const left = Math.max(4, Math.min(r.left + r.width / 2 - go.offsetWidth / 2, innerWidth - go.offsetWidth - 4));
        set(offer, { style: `inset:auto;position:absolute;z-index:2147483000;top:${r.bottom + 6 - from.top}px;left:${left - from.left}px` });
      }, 150);
    });
  }

  function quote(passage) {
    quoted = passage;
    topForm.querySelector(".p-quoted")?.remove();
    topForm.prepend(h("div", { class: "p-quoted" }, h("blockquote", { class: "parley-quote" }, passage.quote), button(t("unquote"), "unquote")));
    topForm.classList.add("p-open");
    host.scrollIntoView({ block: "start" });
    topForm.elements.body.focus();
    announce(t("quoted"));
  }

  function unquote() {
    quoted = null;
    topForm.querySelector(".p-quoted")?.remove();
    topForm.elements.body.focus();
  }

  // --- the floating prompt: at the article's end, a reader who has not commented is asked -

  // It floats over the way from the article to the thread: gone once the thread fills the
  // lower half of the screen, where it would cover comments.
  function prompt() {
    if (closed || stored("posted:" + key) || stored("noprompt:" + key)) return;
    const end = document.querySelector("[data-parley-article]");
    const say = t("placeholder");
    let due = false;
    const check = () => {
      const r = (end || host).getBoundingClientRect();
      // Within a pixel: the article's end may sit a fraction of one below the screen's.
      due ||= (end ? r.bottom : r.top) < innerHeight + 1;
      if (!due) return;
      if (!floating) {
        floating = h("div", { dir: dir || "ltr" });
        const shadow = floating.attachShadow({ mode: "open" });
        styled(shadow, PROMPT_CSS, h("div", { role: "region", "aria-label": say, lang }, h("p", {}, say), button(t("comment"), "go"), button("×", "x", { "aria-label": t("close") })));
        shadow.addEventListener("click", (event) => {
          const act = event.target.closest("[data-act]")?.dataset.act;
          if (!act) return;
          unprompt();
          if (act === "x") return stored("noprompt:" + key, 1);
          host.scrollIntoView({ block: "start" });
          topForm.elements.body.focus();
        });
        floating.style.display = "none";
        document.body.append(floating);
      }
      const show = host.getBoundingClientRect().top > innerHeight / 2;
      if (show && !floating.seen) announce(say);
      floating.seen ||= show;
      floating.style.display = show ? "" : "none";
    };
    unprompt = () => {
      removeEventListener("scroll", check);
      floating?.remove();
    };
    addEventListener("scroll", check, { passive: true });
    check();
  }

  function enhance(fragment) {
    const words = fragment.querySelector(":scope>.parley-strings");
    if (words) {
      Object.assign(T, JSON.parse(words.textContent));
      words.remove();
      drawBar();
    }
    editMinutes = +fragment.dataset.editWindow || 15;
    closed = fragment.hasAttribute("data-closed");
    for (const img of fragment.querySelectorAll("img[src]")) {
      set(img, { src: new URL(img.getAttribute("src"), BASE), loading: "lazy" }); // on Parley
    }
    // In the reader's time zone, as the comments they post will show.
    for (const time of fragment.querySelectorAll("time")) stamp(time);
    const nav = fragment.querySelector(".parley-sorts");
    if (nav) {
      // "Inline feedbacks" filters any sort: a toggle beside the tabs, not a tab.
      const filter = nav.querySelector(".parley-inline-filter");
      const tools = h("div", { class: "p-tools" });
      nav.replaceWith(tools);
      tools.append(nav, filter ? button(filter.textContent, "inline", { class: filter.className, "aria-pressed": "" + state.inline }) : "");
      filter?.remove();
      set(nav, { role: "tablist" });
      for (const a of nav.children) {
        const sort = new URL(a.getAttribute("href"), BASE).searchParams.get("sort");
        const selected = sort === state.sort;
        a.removeAttribute("href");
        a.removeAttribute("aria-current");
        set(a, { id: "p-tab-" + sort, role: "tab", "aria-selected": "" + selected, "aria-controls": "p-panel", tabindex: selected ? 0 : -1, "data-sort": sort, "data-act": "sort" });
      }
    }
    const list = fragment.querySelector(".parley-list");
    const pages = fragment.querySelector(".parley-pages");
    const panel = h("div", { id: "p-panel", role: "tabpanel", "aria-labelledby": "p-tab-" + state.sort });
    list.before(panel);
    panel.append(list, pages || "");
    if (pages) {
      pages.querySelector(".parley-first")?.remove(); // pages are added in place: no going back
      for (const a of pages.children) {
        const act = a.classList.contains("parley-all") ? "all" : "more";
        const cursor = new URL(a.getAttribute("href"), BASE).searchParams.get("cursor");
        a.replaceWith(button(a.textContent, act, { class: a.className, "data-cursor": cursor }));
      }
    }
    list.querySelectorAll(".parley-comment").forEach(enhanceComment);
    for (const li of list.children) collapse(li);
    return fragment;
  }

  // Replies below level 2 fold behind "View N replies" where a discussion runs long.
  function collapse(top) {
    if (top.querySelectorAll(":scope>ol>li>ol li").length <= 3) return;
    for (const ol of top.querySelectorAll(":scope>ol>li>ol")) {
      const n = ol.querySelectorAll("li").length;
      set(ol, { hidden: true, id: "p-replies-" + ol.parentElement.dataset.id });
      ol.before(button(t("viewReplies", { n }), "expand", { class: "p-expand", "aria-controls": ol.id, "aria-expanded": "false" }));
    }
  }

  function unfold(ol) {
    ol.hidden = false;
    if (ol.previousElementSibling?.matches(".p-expand")) ol.previousElementSibling.remove();
  }

  function reveal(li) {
    for (let ol; (ol = li.closest("ol[hidden]")); ) unfold(ol);
    li.scrollIntoView({ block: "center" });
    focusOn(article(li));
  }

  function enhanceComment(li) {
    const footer = part(li, "actions");
    if (!footer) return; // a deleted comment's placeholder
    const id = li.dataset.id;
    const disclose = (label, act, attrs) => button(t(label), act, { "aria-expanded": "false", ...attrs });
    const reply = footer.querySelector("a.parley-reply");
    // The server's label where there is one: its translations may cover more languages.
    reply?.replaceWith(button(reply.textContent || t("reply"), "reply", { class: "parley-reply", "aria-expanded": "false" }));
    // Nobody votes on or reports their own comment, nor votes once a discussion is
    // closed: the server refuses it too.
    const ours = ownComments.includes(+id);
    if (!li.matches(".parley-pending") && !stored("edit:" + id) && !ours) {
      const vote = stored("vote:" + id);
      const arrow = (v) => button("", "vote", { class: "p-vote", "data-v": v, "aria-label": t(v > 0 ? "up" : "down"), "aria-pressed": "" + (vote === v) });
      const score = footer.querySelector(".parley-score");
      if (!closed) {
        score.before(arrow(1));
        score.after(arrow(-1));
      }
      footer.append(disclose("report", "report"));
    }
    // Wherever one may reply, one may follow the replies.
    footer.querySelector(".parley-reply")?.after(disclose("follow", "follow"));
    const own = ownToken(id);
    if (own.token || ours) {
      const mine = [disclose("edit", "edit"), disclose("del", "del")];
      footer.append(...mine);
      // The server refuses a guest once the edit window closes: so do the buttons. The
      // account's own comments have no window; the session authorises the requests.
      if (!ours) setTimeout(() => mine.forEach((b) => b.remove()), Math.min(own.left, 2e9));
    }
  }

  function ownToken(id) {
    const entry = stored("edit:" + id);
    const left = entry && entry.at + editMinutes * 6e4 - Date.now();
    return left > 0 ? { token: entry.token, left } : {};
  }

  const count = () => +thread.dataset.count;

  function setCount(n) {
    thread.dataset.count = n;
    const text = t("count", { n });
    thread.querySelector("h2").textContent = text;
    for (const badge of document.querySelectorAll("[data-parley-count]")) {
      if (badge.dataset.parleyCount === uri) badge.textContent = text;
    }
  }

  // --- forms ------------------------------------------------------------------------------

  function field(tag, name, label, attrs = {}, hint) {
    const id = "p-f" + ++ids;
    return h(
      "p",
      { class: "p-field" },
      h("label", { for: id, class: attrs.placeholder && "p-sr" }, label, hint && h("small", {}, ` (${t(hint)})`)),
      h(tag, { id, name, "aria-describedby": id + "e", ...attrs }),
      h("span", { class: "p-field-error", id: id + "e" })
    );
  }

  const radio = (name, value, label, checked) => h("label", { class: "p-choice" }, h("input", { type: "radio", name, value, checked }), label);

  // A form that shows its errors, field by field, and hands its values to `send`.
  function form(attrs, children, submit, cancel, send) {
    const error = h("p", { class: "p-form-error" });
    const go = h("button", { type: "submit", class: "p-primary" }, t(submit));
    const el = h("form", { novalidate: true, class: "p-form p-open", ...attrs }, ...children, error, h("div", { class: "p-row" }, go, cancel && button(t("cancel"), "close")));
    const fail = (problem) => {
      for (const [name, message] of Object.entries(problem.fields || {})) {
        const input = el.elements[name];
        if (input) {
          set(input, { "aria-invalid": "true" });
          byId(input.id + "e").textContent = message;
        } else problem.message += " " + message;
      }
      error.textContent = problem.message;
      announce(problem.message);
      el.querySelector("[aria-invalid]")?.focus();
    };
    el.need = (...names) => {
      const fields = {};
      for (const name of names) if (!el.elements[name].value.trim()) fields[name] = t("required");
      if (names.some((name) => fields[name])) throw { message: t("required"), fields };
    };
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const bad of el.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
      for (const text of el.querySelectorAll(".p-field-error")) text.textContent = "";
      error.textContent = "";
      go.disabled = true;
      try {
        await send(Object.fromEntries(new FormData(el)));
      } catch (problem) {
        fail(problem);
      } finally {
        go.disabled = false;
      }
    });
    return el;
  }

  function commentForm(parentLi) {
    const author = stored("author") || {};
    const name = parentLi && part(parentLi, "meta").querySelector(".parley-author").textContent;
    const el = form(
      { class: "p-form" + (parentLi ? " p-open" : "") },
      [
        field("textarea", "body", parentLi ? t("replyTo", { name }) : t("comment"), { rows: 3, placeholder: !parentLi && t("placeholder") }),
        h("p", { class: "p-hint" }, t("markdown")),
        h(
          "div",
          { class: "p-author" },
          field("input", "author_name", t("name"), { autocomplete: "name", value: author.author_name }),
          field("input", "author_email", t("email"), { type: "email", autocomplete: "email", value: author.author_email }, "emailHint"),
          field("input", "author_url", t("website"), { type: "url", autocomplete: "url", value: author.author_url }, "optional")
        ),
        // For bots, which fill in every field: hidden from people, screen readers and Tab.
        h("div", { class: "p-hp", "aria-hidden": "true" }, field("input", "homepage", t("leaveEmpty"), { tabindex: -1, autocomplete: "off" })),
      ],
      parentLi ? "postReply" : "post",
      parentLi,
      async (values) => {
        el.need("body", account?.name ? "body" : "author_name");
        const signed = account && { author_name: account.name || values.author_name, author_email: account.email, author_url: "" };
        const posted = await call("POST", "/api/v1/comments", { site, uri, parent: parentLi ? +parentLi.dataset.id : null, form_token: formToken, ...values, ...signed, ...(!parentLi && quoted) });
        stored("posted:" + key, 1);
        unprompt();
        const { body, homepage, ...remembered } = values;
        if (!account) stored("author", remembered);
        stored("edit:" + posted.comment.id, { token: posted.edit_token, at: Date.now() });
        const pending = posted.status === "pending";
        const li = place(posted.comment, pending, parentLi);
        if (!pending) setCount(count() + 1);
        announce(t(pending ? "pendingSaid" : "posted"));
        if (parentLi) {
          closePanel(parentLi);
          focusOn(article(li));
        } else {
          el.elements.body.value = "";
          quoted = null;
          el.querySelector(".p-quoted")?.remove();
          li.scrollIntoView({ block: "nearest" });
        }
      }
    );
    // The top box shows its name fields once the reader starts on a comment.
    el.addEventListener("focusin", () => el.classList.add("p-open"));
    return el;
  }

  // A comment just posted or streamed, in the fragment's markup, where the thread shows it.
  function place(c, pending, parentLi) {
    const body = h("div", { class: "parley-body" });
    body.innerHTML = c.html; // sanitised by Parley (nh3), as in the fragment
    const link = c.author.url;
    const li = h(
      "li",
      { class: `parley-comment parley-level-${c.level} p-new${pending ? " parley-pending" : ""}`, id: "comment-" + c.id, "data-id": c.id },
      h(
        "article",
        {},
        h(
          "header",
          { class: "parley-meta" },
          c.author.avatar && h("img", { class: "parley-avatar", src: new URL(c.author.avatar, BASE), alt: "", width: 36, height: 36 }),
          h(link ? "a" : "span", { class: "parley-author", href: link, rel: link && "nofollow ugc noopener" }, c.author.name),
          c.in_reply_to && h("span", { class: "parley-in-reply-to" }, t("inReplyTo", { name: c.in_reply_to })),
          h("a", { class: "parley-permalink", href: "#comment-" + c.id }, h("time", { datetime: c.created_at, title: dates.format(new Date(c.created_at)) }, when(c.created_at))),
          pending && h("span", { class: "parley-badge" }, t("pending"))
        ),
        c.quote && h("blockquote", { class: "parley-quote", "data-prefix": c.quote_selector?.prefix, "data-suffix": c.quote_selector?.suffix }, c.quote),
        body,
        h(
          "footer",
          { class: "parley-actions" },
          h("span", { class: "parley-score", title: t("votes", { up: c.upvotes, down: c.downvotes }) }, signed(c.score)),
          !pending && h("a", { class: "parley-reply" })
        )
      )
    );
    if (!parentLi) {
      const list = thread.querySelector(".parley-list");
      list.querySelector(".parley-empty")?.remove();
      list.prepend(li);
    } else if (c.level > levelOf(parentLi)) {
      const ol = parentLi.querySelector(":scope>ol") || parentLi.appendChild(h("ol", { class: "parley-replies" }));
      unfold(ol);
      ol.append(li);
    } else {
      parentLi.parentElement.append(li); // at the deepest level, beside the comment it answers
    }
    enhanceComment(li);
    if (c.quote) highlight();
    return li;
  }

  // --- highlights: each quoted passage marked in the article, with its comment count -----

  function highlight() {
    const body = document.querySelector("[data-parley-article]");
    if (!body) return;
    for (const b of body.querySelectorAll(".parley-passage-count")) b.remove();
    for (const mark of body.querySelectorAll("mark.parley-passage")) mark.replaceWith(...mark.childNodes);
    body.normalize();
    // The article's text, its white space run together as quotes have it, and where each
    // character of it is in the page.
    const nodes = [];
    const at = [];
    let text = "";
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode()); ) {
      nodes.push(node);
      for (let i = 0; i < node.data.length; i++) {
        const space = /\s/.test(node.data[i]);
        if (space && text.endsWith(" ")) continue;
        text += space ? " " : node.data[i];
        at.push([node, i]);
      }
    }
    const found = {}; // start in `text`: { end, ids }
    const shown = [...thread.querySelectorAll(".parley-comment .parley-quote")].map((q) => ({ id: q.closest(".parley-comment").dataset.id, exact: q.textContent, ...q.dataset }));
    for (let { id, exact, prefix = "", suffix = "" } of [...shown, ...quotes.filter((q) => !shown.some((s) => s.id === q.id))]) {
      exact = exact.replace(/\s+/g, " ").trim();
      let best = -1;
      let score = -1;
      for (let i = exact ? text.indexOf(exact) : -1; i >= 0; i = text.indexOf(exact, i + 1)) {
        // Where several match, the one whose neighbours are most like the quote's.
        let n = 0;
        while (n < prefix.length && prefix[prefix.length - 1 - n] === text[i - 1 - n]) n++;
        for (let k = 0; k < suffix.length && suffix[k] === text[i + exact.length + k]; k++) n++;
        if (n > score) [best, score] = [i, n];
      }
      if (best < 0) continue; // the article changed: the comment still shows its quote
      (found[best] ||= { end: best + exact.length, ids: [] }).ids.push(id);
    }
    let limit = Infinity;
    // From the end, so that splitting text nodes leaves earlier positions where they were.
    for (const start of Object.keys(found).map(Number).sort((a, b) => b - a)) {
      const { end, ids } = found[start];
      if (end > limit) continue; // overlapping passages: the later one only
      limit = start;
      const [first, from] = at[start];
      const [last, to] = at[end - 1];
      let mark;
      for (let node of nodes.slice(nodes.indexOf(first), nodes.indexOf(last) + 1)) {
        if (node === last && to + 1 < node.length) node.splitText(to + 1);
        if (node === first && from) node = node.splitText(from);
        mark = h("mark", { class: "parley-passage", style: "background:#fff1a8;color:#1d2327;padding:0;border-radius:2px" });
        node.replaceWith(mark);
        mark.append(node);
      }
      const n = ids.length;
      // Its text in a shadow root: no part of the article's text, nor of a new quote's context.
      const count = h("span", { class: "parley-passage-count", style: "position:static" });
      const go = button("" + n, "go", { "aria-label": t("count", { n }), style: "font-size:.8em;padding:0 .4em;margin-inline-start:.2em;border-radius:1em" });
      styled(count.attachShadow({ mode: "open" }), PROMPT_CSS, go);
      go.addEventListener("click", () => {
        const show = () => {
          const li = byId("comment-" + ids[0]);
          if (li) reveal(li);
          announce(t("count", { n }));
        };
        if (state.inline) return show();
        state.inline = true;
        const filter = root.querySelector(".parley-inline-filter");
        if (filter) set(filter, { "aria-pressed": "true" });
        load(show);
      });
      mark.after(count);
    }
  }

  // --- e-mail: notifications and signing in -----------------------------------------------

  const emailField = () => field("input", "email", t("email"), { type: "email", autocomplete: "email", value: account?.email || stored("author")?.author_email });

  // A signed-in reader's own address is subscribed at once (the server's message says so).
  function notifyBox() {
    const done = h("p", { class: "p-done" });
    const el = form(
      {},
      [
        h("fieldset", {}, h("legend", { class: "p-sr" }, t("notify")), radio("kind", "thread", t("notifyThread"), true), radio("kind", "replies", t("notifyReplies"))),
        h("fieldset", {}, h("legend", {}, t("delivery")), radio("delivery", "instant", t("instant"), true), radio("delivery", "daily", t("daily"))),
        emailField(),
      ],
      "subscribe",
      false,
      async (values) => {
        done.textContent = "";
        el.need("email");
        const answer = await call("POST", "/api/v1/subscriptions", { site, uri, ...values });
        done.textContent = answer.message;
        announce(answer.message);
      }
    );
    el.append(done);
    return h("details", { class: "p-notify" }, h("summary", {}, t("notify")), el);
  }

  // Replies under one comment, at any depth; a guest names the address in a panel.
  function follow(li, b) {
    const send = async ({ email }) => note(li, (await call("POST", "/api/v1/subscriptions", { site, uri, email, kind: "comment", comment: +li.dataset.id })).message);
    if (account) return send(account).catch((error) => note(li, error.message));
    const el = form({}, [emailField()], "follow", true, async (values) => {
      el.need("email");
      await send(values);
      closePanel(li, true);
    });
    openPanel(li, el, b);
  }

  // Signed in, the bar names the account and the comment boxes ask for a name only where
  // the account has none yet (a new one). Its own comments get Edit and Delete, which
  // signing out takes away again (but for those this browser holds an edit token for).
  // Drawn again once the thread's strings arrive: the bar shows before them.
  const drawBar = (a = account) => bar.firstChild.replaceChildren(...(a ? [t("signedIn", { name: a.name || a.email }), " ", button(t("signOut"), "signOut")] : [button(t("signIn"), "signIn", { "aria-expanded": "false" })]));

  function signedIn(a, own = []) {
    account = a;
    const was = ownComments;
    ownComments = own;
    for (const li of thread?.querySelectorAll(".parley-comment") || []) {
      const id = +li.dataset.id;
      if (was.includes(id) === own.includes(id)) continue;
      part(li, "actions")?.querySelectorAll("[data-act]:not(.parley-reply)").forEach((b) => b.remove());
      if (!li.opener?.isConnected) closePanel(li); // its Edit or Report panel
      enhanceComment(li);
    }
    stored("account", a);
    if (!a) stored("session", null);
    wrap.classList.toggle("p-in", !!a);
    wrap.classList.toggle("p-named", !!a?.name);
    drawBar();
    const email = root.querySelector(".p-notify [name=email]");
    if (a && email) email.value = a.email;
  }

  // The e-mailed link leads back to this page, with a token the widget trades for a session
  // in this browser only (the one that asked, holding the browser key).
  function signIn(_, b) {
    const el = form({}, [emailField()], "sendLink", true, async ({ email }) => {
      el.need("email");
      const answer = await call("POST", "/api/v1/auth/email", { site, email, return_url: location.href.split("#")[0] });
      stored("browser", answer.browser_key);
      closePanel(bar, true);
      note(bar, answer.message);
    });
    openPanel(bar, el, b);
  }

  async function completeSignIn() {
    const token = location.hash.match(/parley-signin=([^&]+)/)?.[1];
    if (token) {
      history.replaceState(null, "", location.href.split("#")[0]);
      try {
        const answer = await call("POST", "/api/v1/auth/complete", { token, browser_key: stored("browser") || "" });
        stored("session", answer.session);
        signedIn(answer.account);
        announce(t("signedIn", { name: account.name || account.email }));
      } catch (error) {
        note(bar, error.message); // e.g. the link was opened in another browser
      }
    }
    // Still signed in, and which comments here are the account's? Asked beside loading the
    // thread, not before it.
    if (account) call("GET", "/api/v1/auth/me?" + new URLSearchParams({ site, uri })).then((me) => signedIn(me.account, me.own_comments), () => {});
  }

  async function signOut() {
    // Signed out here whatever the server says: its session may have ended already.
    const answer = await call("POST", "/api/v1/auth/signout").catch((error) => error);
    signedIn(null);
    focusOn(bar.querySelector("button"));
    note(bar, answer.message);
  }

  // --- panels under a comment: reply, report, edit, delete --------------------------------

  function openPanel(li, panel, opener) {
    closePanel(li);
    article(li).after(set(panel, { class: panel.className + " p-panel" }));
    li.opener = set(opener, { "aria-expanded": "true" });
    panel.querySelector("textarea, input, button").focus();
  }

  function closePanel(li, refocus) {
    li.querySelector(":scope>.p-panel")?.remove();
    const body = part(li, "body");
    if (body) body.hidden = false;
    const opener = li.opener;
    li.opener = null;
    if (opener) set(opener, { "aria-expanded": "false" });
    if (refocus && opener?.isConnected) opener.focus();
  }

  async function vote(li, b) {
    const id = li.dataset.id;
    try {
      const result = await call("POST", `/api/v1/comments/${id}/vote`, { value: b.matches("[aria-pressed=true]") ? 0 : +b.dataset.v });
      stored("vote:" + id, result.value || null);
      for (const arrow of b.parentElement.querySelectorAll(".p-vote")) set(arrow, { "aria-pressed": "" + (+arrow.dataset.v === result.value) });
      set(b.parentElement.querySelector(".parley-score"), { text: signed(result.score), title: t("votes", { up: result.upvotes, down: result.downvotes }) });
      announce(t("voted", { score: signed(result.score) }));
    } catch (error) {
      note(li, error.message);
    }
  }

  function reply(li, b) {
    openPanel(li, commentForm(li), b);
  }

  function report(li, b) {
    const why = field("input", "note", t("note"), {}, "optional");
    const agree = h("input", { type: "checkbox", name: "good_faith", id: "p-f" + ++ids, "aria-describedby": "p-f" + ids + "e" });
    // "Illegal content" makes the report a notice under the EU Digital Services Act.
    const notice = h(
      "div",
      { hidden: true },
      h("p", { class: "p-hint" }, t("notice")),
      field("input", "reporter_name", t("yourName"), { autocomplete: "name", value: stored("author")?.author_name }),
      field("input", "reporter_email", t("yourEmail"), { type: "email", autocomplete: "email", value: stored("author")?.author_email }),
      h("p", { class: "p-field" }, h("label", { class: "p-choice" }, agree, t("goodFaith")), h("span", { class: "p-field-error", id: agree.id + "e" }))
    );
    const el = form(
      {},
      [h("fieldset", {}, h("legend", {}, t("reportWhy")), ...REASONS.map((reason) => radio("reason", reason, t(reason)))), why, notice],
      "sendReport",
      true,
      async ({ reason, note: text, reporter_name, reporter_email }) => {
        if (!reason) throw { message: t("chooseReason") };
        const dsa = reason === "illegal" && { reporter_name, reporter_email, good_faith: agree.checked };
        await call("POST", `/api/v1/comments/${li.dataset.id}/report`, { reason, note: text, ...dsa });
        closePanel(li, true);
        note(li, t("reported"));
      }
    );
    el.addEventListener("change", () => {
      const illegal = el.elements.reason.value === "illegal";
      notice.hidden = !illegal;
      // The notice's statement of why: no longer optional.
      why.querySelector("label").replaceChildren(illegal ? t("why") : t("note"), illegal ? "" : h("small", {}, ` (${t("optional")})`));
    });
    openPanel(li, el, b);
  }

  async function edit(li, b) {
    const { token } = ownToken(li.dataset.id);
    const path = "/api/v1/comments/" + li.dataset.id;
    try {
      const source = await call("GET", path, null, token);
      const el = form({}, [field("textarea", "body", t("editLabel"), { rows: 4 })], "save", true, async ({ body }) => {
        el.need("body");
        const changed = await call("PATCH", path, { body }, token);
        part(li, "body").innerHTML = changed.html;
        if (!part(li, "meta").querySelector(".parley-edited")) part(li, "meta").append(h("span", { class: "parley-edited" }, t("edited")));
        closePanel(li, true);
        announce(t("saved"));
      });
      el.elements.body.value = source.body;
      openPanel(li, el, b);
      part(li, "body").hidden = true;
    } catch (error) {
      note(li, error.message);
    }
  }

  function del(li, b) {
    const ask = t("delAsk");
    openPanel(li, h("p", { class: "p-confirm", role: "group", "aria-label": ask }, ask, button(t("delYes"), "confirmDelete", { class: "p-danger" }), button(t("cancel"), "close")), b);
  }

  async function confirmDelete(li) {
    const id = li.dataset.id;
    try {
      await call("DELETE", "/api/v1/comments/" + id, null, ownToken(id).token);
    } catch (error) {
      closePanel(li, true);
      return note(li, error.message);
    }
    stored("edit:" + id, null);
    if (!li.matches(".parley-pending")) setCount(count() - 1);
    closePanel(li);
    // With replies it stays as a placeholder, as the server shows it; without, it goes.
    if (li.querySelector("ol li")) {
      article(li).replaceChildren(h("p", { class: "parley-deleted" }, t("deletedText")));
      focusOn(article(li));
    } else {
      const next = li.nextElementSibling || li.parentElement.closest("li");
      li.remove();
      focusOn(next ? article(next) : thread.querySelector("h2"));
    }
    announce(t("deleted"));
  }

  // --- moving about the thread ------------------------------------------------------------

  function sort(_, tab) {
    if (tab.dataset.sort === state.sort) return;
    state.sort = tab.dataset.sort;
    for (const other of tab.parentElement.children) set(other, { "aria-selected": "" + (other === tab), tabindex: other === tab ? 0 : -1 });
    load();
  }

  function inline(_, b) {
    state.inline = !state.inline;
    set(b, { "aria-pressed": "" + state.inline });
    load(() => thread.querySelector(".parley-inline-filter").focus());
  }

  async function more(_, b) {
    b.disabled = true;
    try {
      const fragment = await fetchThread(b.dataset.cursor);
      const added = [...fragment.querySelector(".parley-list").children];
      thread.querySelector(".parley-list").append(...added);
      thread.querySelector(".parley-pages").replaceWith(fragment.querySelector(".parley-pages") || "");
      if (added[0]) focusOn(article(added[0]));
      announce(t("loadedMore"));
    } catch (error) {
      b.disabled = false;
      showAlert(error.message);
    }
  }

  function all() {
    const seen = thread.querySelector(".parley-list").children.length;
    state.all = true;
    // Focus where the reader left off: the first comment they had not seen.
    load(() => {
      const first = thread.querySelector(".parley-list").children[seen];
      if (first) focusOn(article(first));
    });
  }

  function expand(_, b) {
    const ol = byId(b.getAttribute("aria-controls"));
    unfold(ol);
    focusOn(article(ol.firstElementChild));
  }

  // Permalinks: the comment lives in the shadow root, out of reach of the page's #hash.
  function link(li, a) {
    history.replaceState(null, "", a.getAttribute("href"));
    reveal(li);
  }

  // --- live updates: "N new comments", shown when the reader asks -------------------------

  function listen() {
    const url = thread.dataset.stream;
    if (!url) return;
    let timer;
    new EventSource(url + (url.includes("?") ? "&" : "?") + new URLSearchParams({ site, uri })).addEventListener("comment", (event) => {
      const { comment: c, count: n } = JSON.parse(event.data);
      if (waiting.some((w) => w.id === c.id)) return;
      waiting.push(c);
      liveCount = n;
      if (showWaiting()) {
        clearTimeout(timer); // one announcement for a burst
        timer = setTimeout(() => announce(t("fresh", { n: waiting.length })), 1000);
      }
    });
  }

  // The reader's own comments are on show already: only the others wait.
  function showWaiting() {
    waiting = waiting.filter((c) => !byId("comment-" + c.id));
    let b = root.querySelector(".p-fresh");
    if (!waiting.length) return b?.remove();
    b ||= thread.querySelector(".parley-list").insertAdjacentElement("beforebegin", button("", "fresh", { class: "p-fresh" }));
    b.textContent = t("fresh", { n: waiting.length });
    return b;
  }

  function fresh() {
    let topmost = null; // oldest first, so the last top-level comment placed is on top
    for (const c of waiting) {
      const parentLi = c.parent && byId("comment-" + c.parent);
      if (c.parent && !parentLi) continue; // it answers a comment on a page not loaded
      const li = place(c, false, parentLi);
      if (!c.parent || !topmost) topmost = li;
    }
    setCount(liveCount);
    waiting = [];
    showWaiting();
    if (topmost) focusOn(article(topmost));
  }

  const ACTIONS = { vote, reply, report, follow, edit, del, confirmDelete, sort, inline, more, all, expand, link, fresh, unquote, signIn, signOut, close: (li) => closePanel(li, true), retry: () => load() };

  wrap.addEventListener("click", (event) => {
    const target = event.target.closest("[data-act], .parley-permalink");
    if (!target) return;
    event.preventDefault();
    // The account bar opens its panel as a comment does.
    const li = target.closest(".parley-comment, .p-account");
    // A panel's button pressed again closes the panel.
    if (li?.opener === target) closePanel(li, true);
    else ACTIONS[target.dataset.act || "link"](li, target);
  });

  // Escape closes a panel. Tabs: arrows, Home and End move along the sorts and select;
  // Enter and Space select.
  wrap.addEventListener("keydown", (event) => {
    const panel = event.key === "Escape" && event.target.closest(".p-panel");
    if (panel) return closePanel(panel.parentElement, true);
    const tab = event.target.closest("[role=tab]");
    if (!tab) return;
    const tabs = [...tab.parentElement.children];
    const n = tabs.length;
    const at = tabs.indexOf(tab);
    const rtl = getComputedStyle(tab).direction === "rtl";
    const to = { Home: 0, End: n - 1, ArrowRight: at + (rtl ? n - 1 : 1), ArrowLeft: at + (rtl ? 1 : n - 1), Enter: at, " ": at }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    tabs[to % n].focus();
    sort(null, tabs[to % n]);
  });

  signedIn(stored("account"));
  completeSignIn().then(() => load());
}

function boot() {
  host = document.getElementById("parley-thread");
  setLanguage((host?.dataset.lang || document.documentElement.lang || "en").toLowerCase());
  let said;
  worded = new Promise((resolve) => (said = resolve));
  fillCounts();
  campaigns();
  if (host && !host.shadowRoot) mount(said);
  else said();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
