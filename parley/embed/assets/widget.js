// Parley's comment widget. /embed.js serves this file as the body of an arrow-function IIFE
// with PARLEY_CSS (widget.css as a string) in scope: no build step, no framework, ES2020.
// It enhances the server-rendered thread fragment rather than rendering comments itself, so
// the widget and Parley's own pages show one markup from one template.

// Captured synchronously: document.currentScript is null once this first run is over.
const script = document.currentScript || document.querySelector('script[src*="/embed.js"]');
const BASE = new URL(script.src).origin;
const REASONS = ["spam", "insult", "hate", "threat", "illegal", "off_topic", "other"];

// Every string the reader sees. Plurals are keyed by Intl.PluralRules categories.
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
    reasons: {
      spam: "Spam or advertising",
      insult: "Insult or harassment",
      hate: "Hate against a group",
      threat: "Threat of violence",
      illegal: "Illegal content",
      off_topic: "Off topic",
      other: "Something else",
    },
    chooseReason: "Choose a reason.",
    note: "Note",
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
    pendingSaid: "Thank you. Your comment will appear once a moderator has approved it.",
    saved: "Comment saved",
    deleted: "Comment deleted",
    deletedText: "This comment was deleted.",
    editedMark: "edited",
    inReplyTo: "in reply to {name}",
    notify: "Notify of",
    notifyThread: "new follow-up comments",
    notifyReplies: "new replies to my comments",
    subscribe: "Subscribe",
    loadedMore: "More comments loaded",
    inline: "Inline feedbacks",
    fresh: { one: "{n} new comment", other: "{n} new comments" },
    count: { one: "{n} comment", other: "{n} comments" },
    viewReplies: { one: "View {n} reply", other: "View {n} replies" },
  },
};

let host, lang, plurals, dates, T;

function setLanguage(tag) {
  try {
    plurals = new Intl.PluralRules(tag);
    dates = new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "short" });
    lang = tag;
    T = { ...STRINGS.en, ...STRINGS[tag.split("-")[0]], ...STRINGS[tag] };
  } catch {
    setLanguage("en"); // not a language tag Intl knows
  }
}

function t(key, vars = {}) {
  let text = T[key];
  if (typeof text === "object") text = text[plurals.select(vars.n)] || text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name]);
}

// --- small helpers ------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.filter((child) => child != null && child !== false));
  return el;
}

const button = (label, act, attrs = {}) => h("button", { type: "button", "data-act": act, ...attrs }, label);

// localStorage of the host page, "parley:"-prefixed; it may be unavailable (privacy modes).
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

const signed = (n) => (n > 0 ? "+" + n : String(n));
const levelOf = (li) => +li.className.match(/parley-level-(\d+)/)[1];
const article = (li) => li.firstElementChild;

function focusOn(el) {
  el.tabIndex = -1;
  el.focus();
}

// --- talking to Parley --------------------------------------------------------------------

async function call(method, path, { json, token } = {}) {
  const headers = {};
  // A plain GET stays a "simple" cross-origin request, so loading costs no preflight.
  const reader = stored("reader");
  if (reader && (method !== "GET" || token)) headers["X-Parley-Reader"] = reader;
  if (json) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: json && JSON.stringify(json),
      credentials: "omit",
    });
  } catch {
    throw { message: t("offline"), status: 0 };
  }
  const type = response.headers.get("Content-Type") || "";
  const data =
    response.status === 204 ? {} : type.includes("json") ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) throw { message: t("failed"), ...data.error, status: response.status };
  // Without cookies the reader token is the reader's identity: keep whichever Parley sends.
  const token2 = response.headers.get("X-Parley-Reader") || data.reader_token;
  if (token2 && token2 !== reader) stored("reader", token2);
  return data;
}

// --- count badges -------------------------------------------------------------------------

function fillCounts() {
  const bySite = new Map();
  for (const badge of document.querySelectorAll("[data-parley-count]")) {
    const site = badge.closest("[data-site]")?.dataset.site || host?.dataset.site || script.dataset.site;
    if (site) bySite.set(site, [...(bySite.get(site) || []), badge]);
  }
  for (const [site, badges] of bySite) {
    const query = new URLSearchParams({ site });
    for (const uri of new Set(badges.map((b) => b.dataset.parleyCount))) query.append("uri", uri);
    call("GET", "/api/v1/counts?" + query)
      .then(({ counts }) => {
        for (const b of badges) b.textContent = t("count", { n: counts[b.dataset.parleyCount] ?? 0 });
      })
      .catch(() => {}); // a badge without a number is better than a broken page
  }
}

// --- the widget ---------------------------------------------------------------------------

function mount() {
  const site = host.dataset.site || script.dataset.site;
  const uri = host.dataset.uri || location.pathname;
  const state = { sort: "newest", all: false, inline: false, loads: 0 };
  let waiting = []; // comments the live stream announced, not yet shown
  let liveCount = 0; // the thread's count as of the latest of them
  const root = host.attachShadow({ mode: "open" });
  const live = h("p", { class: "p-sr", role: "status", "aria-live": "polite" });
  const alert = h("p", { class: "p-alert", hidden: true });
  const threadBox = h("div", { "aria-busy": "true" }, h("p", { class: "p-loading" }, t("loading")));
  const wrap = h("div", { class: "p-wrap", lang, dir: /^(ar|he|fa|ur)\b/.test(lang) ? "rtl" : null });
  let thread = null; // the current .parley-thread element

  root.append(h("style", { text: PARLEY_CSS }), wrap);
  wrap.append(live, threadBox);

  function announce(message) {
    live.textContent = "";
    setTimeout(() => (live.textContent = message), 50);
  }

  function showAlert(message) {
    alert.textContent = message || "";
    alert.hidden = !message;
    if (message) announce(message);
  }

  // A message beside one comment, e.g. "You cannot vote on your own comment."
  function note(li, message) {
    const art = article(li);
    let p = art.querySelector(":scope>.p-note");
    if (!p) art.append((p = h("p", { class: "p-note" })));
    p.textContent = message;
    announce(message);
  }

  // --- loading the thread -----------------------------------------------------------------

  async function fetchThread(cursor) {
    const query = new URLSearchParams({ site, uri, sort: state.sort });
    if (state.all) query.set("all", "1");
    if (state.inline) query.set("filter", "inline");
    if (cursor) query.set("cursor", cursor);
    query.set("lang", lang);
    const template = h("template");
    template.innerHTML = await call("GET", "/fragments/thread?" + query);
    const fragment = template.content.querySelector(".parley-thread");
    enhance(fragment);
    return fragment;
  }

  async function load(after) {
    const mine = ++state.loads;
    threadBox.setAttribute("aria-busy", "true");
    try {
      const fragment = await fetchThread();
      if (mine !== state.loads) return; // a later sort overtook this one
      const tabFocused = root.activeElement?.getAttribute("role") === "tab";
      const first = !thread;
      threadBox.replaceChildren((thread = fragment));
      showAlert("");
      if (first) start();
      if (tabFocused) root.getElementById("p-tab-" + state.sort)?.focus();
      showWaiting();
      after?.();
    } catch (error) {
      if (mine !== state.loads) return;
      if (thread) return showAlert(error.message);
      // Nothing shown yet (e.g. this page's origin is not allowed): say why, inside the widget.
      threadBox.replaceChildren(h("p", { class: "p-error" }, error.message));
      if (error.status === 0 || error.status >= 500) threadBox.append(button(t("retry"), "retry"));
      announce(error.message);
    } finally {
      threadBox.removeAttribute("aria-busy");
    }
  }

  // First successful load: the boxes above the thread, a deep link to a comment.
  function start() {
    if (!thread.hasAttribute("data-closed")) wrap.insertBefore(notifyBox(), threadBox).after(commentForm());
    threadBox.before(alert);
    // Live updates start once the reader can see the thread, not with the page.
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      seen.disconnect();
      listen();
    });
    seen.observe(host);
    const target = location.hash.startsWith("#comment-") && root.getElementById(location.hash.slice(1));
    if (target) reveal(target);
  }

  function enhance(fragment) {
    for (const img of fragment.querySelectorAll("img[src]")) {
      img.src = new URL(img.getAttribute("src"), BASE + "/"); // avatars live on Parley, not here
      img.loading = "lazy";
    }
    const nav = fragment.querySelector(".parley-sorts");
    if (nav) {
      // "Inline feedbacks" filters whatever the sort: a toggle beside the tabs, not a tab.
      const filter = nav.querySelector(".parley-inline-filter");
      if (filter) {
        nav.after(button(filter.textContent, "inline", { class: filter.className, "aria-pressed": String(state.inline) }));
        filter.remove();
      }
      nav.setAttribute("role", "tablist");
      for (const a of nav.querySelectorAll("a")) {
        const sort = new URL(a.getAttribute("href"), BASE).searchParams.get("sort");
        const selected = sort === state.sort;
        Object.assign(a.dataset, { sort, act: "sort" });
        a.removeAttribute("href");
        a.removeAttribute("aria-current");
        a.id = "p-tab-" + sort;
        a.setAttribute("role", "tab");
        a.setAttribute("aria-selected", selected);
        a.setAttribute("aria-controls", "p-panel");
        a.tabIndex = selected ? 0 : -1;
      }
    }
    const list = fragment.querySelector(".parley-list");
    const panel = h("div", { id: "p-panel", role: "tabpanel", "aria-labelledby": "p-tab-" + state.sort });
    list.before(panel);
    panel.append(list);
    const pages = fragment.querySelector(".parley-pages");
    if (pages) {
      panel.append(pages);
      pages.querySelector(".parley-first")?.remove(); // pages are appended in place, never left
      for (const a of pages.querySelectorAll("a")) {
        const cursor = new URL(a.getAttribute("href"), BASE).searchParams.get("cursor");
        const act = a.classList.contains("parley-all") ? "all" : "more";
        a.replaceWith(button(a.textContent, act, { class: a.className, "data-cursor": cursor }));
      }
    }
    for (const li of list.querySelectorAll(".parley-comment")) enhanceComment(li);
    for (const li of list.children) collapse(li);
  }

  // Replies below level 2 fold behind "View N replies" where a discussion runs long.
  function collapse(top) {
    if (top.querySelectorAll(":scope>ol>li>ol .parley-comment").length <= 3) return;
    for (const ol of top.querySelectorAll(":scope>ol>li>ol")) {
      ol.hidden = true;
      ol.id = "p-replies-" + ol.parentElement.dataset.id;
      const n = ol.querySelectorAll(".parley-comment").length;
      ol.before(button(t("viewReplies", { n }), "expand", { class: "p-expand", "aria-controls": ol.id, "aria-expanded": "false" }));
    }
  }

  function unfold(ol) {
    ol.hidden = false;
    ol.previousElementSibling?.matches(".p-expand") && ol.previousElementSibling.remove();
  }

  function reveal(li) {
    for (let ol = li.closest("ol[hidden]"); ol; ol = ol.parentElement.closest("ol[hidden]")) unfold(ol);
    li.scrollIntoView({ block: "center" });
    focusOn(article(li));
  }

  function enhanceComment(li) {
    const footer = article(li).querySelector(":scope>.parley-actions");
    if (!footer) return; // a deleted comment's placeholder
    const id = li.dataset.id;
    const score = footer.querySelector(".parley-score");
    footer.querySelector(".parley-reply")?.replaceWith(button(t("reply"), "reply", { class: "parley-reply", "aria-expanded": "false" }));
    // Nobody votes on or reports their own comment (the server refuses it too).
    if (!li.classList.contains("p-pending") && !stored("edit:" + id)) {
      const vote = stored("vote:" + id) || 0;
      const arrow = (v) =>
        button("", "vote", { class: "p-vote", "data-v": v, "aria-label": t(v > 0 ? "up" : "down"), "aria-pressed": String(vote === v) });
      score.before(arrow(1));
      score.after(arrow(-1));
      footer.append(button(t("report"), "report", { "aria-expanded": "false" }));
    }
    const own = ownToken(id);
    if (own) {
      const mine = [button(t("edit"), "edit", { "aria-expanded": "false" }), button(t("del"), "del", { "aria-expanded": "false" })];
      footer.append(...mine);
      // The server refuses after the window; take the buttons away when it closes.
      setTimeout(() => mine.forEach((b) => b.remove()), Math.min(own.left, 2 ** 31 - 1));
    }
  }

  function ownToken(id) {
    const entry = stored("edit:" + id);
    const windowMs = (+thread?.dataset.editWindow || +host.dataset.editWindow || 15) * 60000;
    const left = entry ? entry.at + windowMs - Date.now() : 0;
    return left > 0 ? { token: entry.token, left } : null;
  }

  const count = () => +thread.dataset.count;

  function setCount(n) {
    thread.dataset.count = n;
    const heading = thread.querySelector(".parley-thread-head h2");
    if (heading) heading.textContent = t("count", { n });
    for (const badge of document.querySelectorAll("[data-parley-count]")) {
      if (badge.dataset.parleyCount === uri) badge.textContent = t("count", { n });
    }
  }

  // --- forms ------------------------------------------------------------------------------

  let ids = 0;
  function field(tag, name, label, attrs = {}, hint = null) {
    const id = "p-f" + ++ids;
    const input = h(tag, { id, name, "aria-describedby": id + "-e", ...attrs });
    return h(
      "p",
      { class: "p-field p-field-" + name },
      h("label", { for: id, class: attrs.placeholder ? "p-sr" : null }, label, hint && h("small", {}, " (" + hint + ")")),
      input,
      h("span", { class: "p-field-error", id: id + "-e" })
    );
  }

  const formError = () => h("p", { class: "p-form-error" });
  const row = (...buttons) => h("div", { class: "p-row" }, ...buttons);

  function clearErrors(form) {
    for (const el of form.querySelectorAll(".p-field-error, .p-form-error")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  // Field messages beside their fields; the rest, and the summary, above the buttons.
  function showErrors(form, error) {
    const loose = [];
    for (const [name, message] of Object.entries(error.fields || {})) {
      const input = form.elements[name];
      if (input?.id) {
        input.setAttribute("aria-invalid", "true");
        form.querySelector("#" + input.id + "-e").textContent = message;
      } else loose.push(message);
    }
    form.querySelector(".p-form-error").textContent = [error.message, ...loose].join(" ");
    announce(error.message);
    form.querySelector("[aria-invalid]")?.focus();
  }

  function requireFields(form, ...names) {
    const missing = names.filter((name) => !form.elements[name].value.trim());
    if (missing.length) showErrors(form, { message: t("required"), fields: Object.fromEntries(missing.map((n) => [n, t("required")])) });
    return !missing.length;
  }

  // Submit with the button disabled; errors land in the form, success in `done`.
  function onSubmit(form, send) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const submit = form.querySelector("[type=submit]");
      submit.disabled = true;
      try {
        await send();
      } catch (error) {
        if (error.message) showErrors(form, error);
        else throw error;
      } finally {
        submit.disabled = false;
      }
    });
  }

  function commentForm(parentLi) {
    const author = stored("author") || {};
    const name = parentLi && article(parentLi).querySelector(".parley-author")?.textContent;
    const form = h(
      "form",
      { class: "p-form" + (parentLi ? " p-open" : ""), novalidate: true },
      parentLi
        ? field("textarea", "body", t("replyTo", { name }), { rows: 3 })
        : field("textarea", "body", t("comment"), { rows: 3, placeholder: t("placeholder") }),
      h("p", { class: "p-hint" }, t("markdown")),
      h(
        "div",
        { class: "p-author" },
        field("input", "author_name", t("name"), { autocomplete: "name", value: author.author_name, required: true }),
        field("input", "author_email", t("email"), { type: "email", autocomplete: "email", value: author.author_email }, t("emailHint")),
        field("input", "author_url", t("website"), { type: "url", autocomplete: "url", value: author.author_url }, t("optional"))
      ),
      formError(),
      row(
        h("button", { type: "submit", class: "p-primary" }, t(parentLi ? "postReply" : "post")),
        parentLi && button(t("cancel"), "close")
      )
    );
    // The top box shows its author fields once the reader starts on a comment.
    form.addEventListener("focusin", () => form.classList.add("p-open"));
    onSubmit(form, async () => {
      if (!requireFields(form, "body", "author_name")) return;
      const values = Object.fromEntries(new FormData(form));
      const posted = await call("POST", "/api/v1/comments", {
        json: { site, uri, parent: parentLi ? +parentLi.dataset.id : null, ...values },
      });
      const { body, ...remembered } = values;
      stored("author", remembered);
      stored("edit:" + posted.comment.id, { token: posted.edit_token, at: Date.now() });
      const pending = posted.status === "pending";
      const li = place(posted.comment, pending, parentLi);
      if (!pending) setCount(count() + 1);
      announce(t(posted.status === "pending" ? "pendingSaid" : "posted"));
      if (parentLi) {
        closePanel(parentLi);
        focusOn(article(li));
      } else {
        form.elements.body.value = "";
        li.scrollIntoView({ block: "nearest" });
      }
    });
    return form;
  }

  // A comment the reader just posted, in the fragment's markup, where the thread shows it.
  function place(c, pending, parentLi) {
    const body = h("div", { class: "parley-body" });
    body.innerHTML = c.html; // sanitised by Parley (nh3), as in the fragment
    const author = c.author.url
      ? h("a", { class: "parley-author", href: c.author.url, rel: "nofollow ugc noopener" }, c.author.name)
      : h("span", { class: "parley-author" }, c.author.name);
    const li = h(
      "li",
      { class: `parley-comment parley-level-${c.level} p-new` + (pending ? " p-pending" : ""), id: "comment-" + c.id, "data-id": c.id },
      h(
        "article",
        {},
        h(
          "header",
          { class: "parley-meta" },
          c.author.avatar && h("img", { class: "parley-avatar", src: new URL(c.author.avatar, BASE), alt: "", width: 36, height: 36 }),
          author,
          c.in_reply_to && h("span", { class: "parley-in-reply-to" }, t("inReplyTo", { name: c.in_reply_to })),
          h("a", { class: "parley-permalink", href: "#comment-" + c.id }, h("time", { datetime: c.created_at }, dates.format(new Date(c.created_at)))),
          pending && h("span", { class: "p-badge" }, t("pending"))
        ),
        c.quote && h("blockquote", { class: "parley-quote" }, c.quote),
        body,
        h(
          "footer",
          { class: "parley-actions" },
          h("span", { class: "parley-score", title: t("votes", { up: c.upvotes, down: c.downvotes }) }, signed(c.score)),
          !pending && h("a", { class: "parley-reply" }, t("reply"))
        )
      )
    );
    if (!parentLi) {
      const list = thread.querySelector(".parley-list");
      list.querySelector(":scope>.parley-empty")?.remove();
      list.prepend(li);
    } else if (c.level > levelOf(parentLi)) {
      let ol = parentLi.querySelector(":scope>ol.parley-replies");
      if (!ol) parentLi.append((ol = h("ol", { class: "parley-replies" })));
      unfold(ol);
      ol.append(li);
    } else {
      parentLi.parentElement.append(li); // at the deepest level, beside the comment it answers
    }
    enhanceComment(li);
    return li;
  }

  function notifyBox() {
    const kind = (value, label, checked) =>
      h("label", { class: "p-choice" }, h("input", { type: "radio", name: "kind", value, checked }), label);
    const message = h("p", { class: "p-done" });
    const form = h(
      "form",
      { class: "p-form p-open", novalidate: true },
      h("fieldset", {}, h("legend", { class: "p-sr" }, t("notify")), kind("thread", t("notifyThread"), true), kind("replies", t("notifyReplies"))),
      field("input", "email", t("email"), { type: "email", autocomplete: "email", value: stored("author")?.author_email }),
      formError(),
      row(h("button", { type: "submit", class: "p-primary" }, t("subscribe"))),
      message
    );
    onSubmit(form, async () => {
      message.textContent = "";
      if (!requireFields(form, "email")) return;
      const { email, kind } = Object.fromEntries(new FormData(form));
      const answer = await call("POST", "/api/v1/subscriptions", { json: { site, uri, email, kind } });
      message.textContent = answer.message;
      announce(answer.message);
    });
    return h("details", { class: "p-notify" }, h("summary", {}, t("notify")), form);
  }

  // --- inline panels under a comment: reply, report, edit, delete ---------------------------

  function openPanel(li, panel, opener) {
    closePanel(li);
    panel.classList.add("p-panel");
    article(li).after(panel);
    li.opener = opener;
    opener.setAttribute("aria-expanded", "true");
    panel.querySelector("textarea, input, button")?.focus();
  }

  function closePanel(li, refocus) {
    li.querySelector(":scope>.p-panel")?.remove();
    const body = article(li).querySelector(":scope>.parley-body");
    if (body) body.hidden = false;
    const opener = li.opener;
    li.opener = null;
    opener?.setAttribute("aria-expanded", "false");
    if (refocus && opener?.isConnected) opener.focus();
    return opener;
  }

  // Clicking an open panel's button again closes it.
  const toggled = (li, opener) => li.opener === opener && closePanel(li, true);

  async function vote(li, b) {
    const id = li.dataset.id;
    const value = b.getAttribute("aria-pressed") === "true" ? 0 : +b.dataset.v;
    try {
      const result = await call("POST", `/api/v1/comments/${id}/vote`, { json: { value } });
      stored("vote:" + id, result.value || null);
      for (const other of b.parentElement.querySelectorAll(".p-vote")) other.setAttribute("aria-pressed", +other.dataset.v === result.value);
      const score = b.parentElement.querySelector(".parley-score");
      score.textContent = signed(result.score);
      score.title = t("votes", { up: result.upvotes, down: result.downvotes });
      announce(t("voted", { score: signed(result.score) }));
    } catch (error) {
      note(li, error.message);
    }
  }

  function reply(li, b) {
    if (!toggled(li, b)) openPanel(li, commentForm(li), b);
  }

  function report(li, b) {
    if (toggled(li, b)) return;
    const form = h(
      "form",
      { class: "p-form p-open", novalidate: true },
      h(
        "fieldset",
        {},
        h("legend", {}, t("reportWhy")),
        ...REASONS.map((reason) => h("label", { class: "p-choice" }, h("input", { type: "radio", name: "reason", value: reason }), T.reasons[reason]))
      ),
      field("input", "note", t("note"), {}, t("optional")),
      formError(),
      row(h("button", { type: "submit", class: "p-primary" }, t("sendReport")), button(t("cancel"), "close"))
    );
    onSubmit(form, async () => {
      const { reason, note: text } = Object.fromEntries(new FormData(form));
      if (!reason) return showErrors(form, { message: t("chooseReason") });
      await call("POST", `/api/v1/comments/${li.dataset.id}/report`, { json: { reason, note: text } });
      closePanel(li, true);
      note(li, t("reported"));
    });
    openPanel(li, form, b);
  }

  async function edit(li, b) {
    if (toggled(li, b)) return;
    const own = ownToken(li.dataset.id);
    try {
      const source = await call("GET", "/api/v1/comments/" + li.dataset.id, { token: own?.token });
      const form = h(
        "form",
        { class: "p-form p-open", novalidate: true },
        field("textarea", "body", t("editLabel"), { rows: 4 }),
        formError(),
        row(h("button", { type: "submit", class: "p-primary" }, t("save")), button(t("cancel"), "close"))
      );
      form.elements.body.value = source.body;
      onSubmit(form, async () => {
        if (!requireFields(form, "body")) return;
        const changed = await call("PATCH", "/api/v1/comments/" + li.dataset.id, { json: { body: form.elements.body.value }, token: own?.token });
        const art = article(li);
        art.querySelector(":scope>.parley-body").innerHTML = changed.html;
        if (!art.querySelector(".parley-edited")) art.querySelector(".parley-permalink").after(" ", h("span", { class: "parley-edited" }, t("editedMark")));
        closePanel(li, true);
        announce(t("saved"));
      });
      openPanel(li, form, b);
      article(li).querySelector(":scope>.parley-body").hidden = true;
    } catch (error) {
      note(li, error.message);
    }
  }

  function del(li, b) {
    if (toggled(li, b)) return;
    const ask = t("delAsk");
    openPanel(li, h("p", { class: "p-confirm", role: "group", "aria-label": ask }, ask + " ", button(t("delYes"), "confirmDelete", { class: "p-danger" }), button(t("cancel"), "close")), b);
  }

  async function confirmDelete(li) {
    const id = li.dataset.id;
    try {
      await call("DELETE", "/api/v1/comments/" + id, { token: ownToken(id)?.token });
    } catch (error) {
      closePanel(li, true);
      return note(li, error.message);
    }
    stored("edit:" + id, null);
    if (!li.classList.contains("p-pending")) setCount(count() - 1);
    // With replies it stays as a placeholder, as the server will show it; without, it goes.
    if (li.querySelector(":scope>ol .parley-comment")) {
      closePanel(li);
      article(li).replaceChildren(h("p", { class: "parley-deleted" }, t("deletedText")));
      focusOn(article(li));
    } else {
      const next = li.nextElementSibling || li.parentElement.closest(".parley-comment");
      li.remove();
      focusOn(next ? article(next) : thread.querySelector("h2"));
    }
    announce(t("deleted"));
  }

  // --- thread navigation ------------------------------------------------------------------

  function inline(_, b) {
    state.inline = !state.inline;
    b.setAttribute("aria-pressed", state.inline);
    load(() => root.querySelector(".parley-inline-filter")?.focus());
  }

  function sort(_, tab) {
    if (tab.dataset.sort === state.sort) return;
    state.sort = tab.dataset.sort;
    for (const other of tab.parentElement.children) {
      other.setAttribute("aria-selected", other === tab);
      other.tabIndex = other === tab ? 0 : -1;
    }
    load();
  }

  async function more(_, b) {
    b.disabled = true;
    try {
      const fragment = await fetchThread(b.dataset.cursor);
      const added = [...fragment.querySelector(".parley-list").children];
      thread.querySelector(".parley-list").append(...added);
      const pages = thread.querySelector(".parley-pages");
      const next = fragment.querySelector(".parley-pages");
      next ? pages.replaceWith(next) : pages.remove();
      if (added[0]) focusOn(article(added[0]));
      announce(t("loadedMore"));
    } catch (error) {
      b.disabled = false;
      showAlert(error.message);
    }
  }

  function all() {
    const shown = thread.querySelector(".parley-list").children.length;
    state.all = true;
    // Focus where the reader left off: the first comment they had not seen.
    load(() => {
      const first = thread.querySelector(".parley-list").children[shown];
      if (first) focusOn(article(first));
    });
  }

  function expand(_, b) {
    const ol = root.getElementById(b.getAttribute("aria-controls"));
    unfold(ol);
    focusOn(article(ol.firstElementChild));
  }

  // --- live updates: "N new comments", shown when the reader asks ------------------------

  function listen() {
    const url = thread.dataset.stream;
    if (!url || !window.EventSource) return;
    const events = new EventSource(url + (url.includes("?") ? "&" : "?") + new URLSearchParams({ site, uri }));
    let said;
    events.addEventListener("comment", (event) => {
      const { comment: c, count: n } = JSON.parse(event.data);
      if (waiting.some((w) => w.id === c.id)) return;
      waiting.push(c);
      liveCount = n;
      if (showWaiting()) {
        clearTimeout(said); // one announcement for a burst of comments
        said = setTimeout(() => announce(t("fresh", { n: waiting.length })), 1000);
      }
    });
  }

  // The button above the list, for comments not on show yet (the reader's own are).
  function showWaiting() {
    waiting = waiting.filter((c) => !root.getElementById("comment-" + c.id));
    let b = root.querySelector(".p-fresh");
    if (!waiting.length) return b?.remove();
    if (!b) thread.querySelector(".parley-list").before((b = button("", "fresh", { class: "p-fresh" })));
    b.textContent = t("fresh", { n: waiting.length });
    return b;
  }

  function fresh() {
    let newest = null; // oldest first: the last top-level comment placed is the topmost
    for (const c of waiting) {
      const parentLi = c.parent && root.getElementById("comment-" + c.parent);
      if (c.parent && !parentLi) continue; // it answers a comment on a page not loaded
      const li = place(c, false, parentLi);
      if (!c.parent || !newest) newest = li;
    }
    setCount(liveCount);
    waiting = [];
    showWaiting();
    if (newest) focusOn(article(newest));
  }

  // Permalinks: the comment is in the shadow root, where the page's own #hash cannot reach.
  function link(li, a) {
    history.replaceState(null, "", a.getAttribute("href"));
    reveal(li);
  }

  const ACTIONS = {
    vote, reply, report, edit, del, confirmDelete, sort, inline, more, all, expand, link, fresh,
    close: (li) => closePanel(li, true),
    retry: () => load(),
  };

  wrap.addEventListener("click", (event) => {
    const target = event.target.closest("[data-act], .parley-permalink");
    if (!target) return;
    event.preventDefault();
    ACTIONS[target.dataset.act || "link"](target.closest(".parley-comment"), target);
  });

  // Tabs: arrows, Home and End move between sorts and select; Enter and Space select.
  wrap.addEventListener("keydown", (event) => {
    const tab = event.target.closest?.("[role=tab]");
    if (!tab) return;
    const tabs = [...tab.parentElement.children];
    const n = tabs.length;
    const at = tabs.indexOf(tab);
    const forward = getComputedStyle(tab).direction === "rtl" ? "ArrowLeft" : "ArrowRight";
    const back = forward === "ArrowLeft" ? "ArrowRight" : "ArrowLeft";
    const to = { Home: 0, End: n - 1, [forward]: (at + 1) % n, [back]: (at + n - 1) % n, Enter: at, " ": at }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    tabs[to].focus();
    sort(null, tabs[to]);
  });

  // Own comments older than a day can no longer be edited anywhere: forget their tokens.
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("parley:edit:") && stored(key.slice(7))?.at < Date.now() - 864e5) localStorage.removeItem(key);
    }
  } catch {
    // storage unavailable: nothing to forget
  }

  load();
}

function boot() {
  host = document.getElementById("parley-thread");
  setLanguage((host?.dataset.lang || document.documentElement.lang || "en").toLowerCase());
  fillCounts();
  if (host && !host.shadowRoot) mount();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
