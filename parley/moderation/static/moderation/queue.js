// The moderator queue, enhanced: one key per decision, fetch instead of page loads, focus
// moving to the next comment. Every action is also a plain form that works without this file.
(function () {
  "use strict";

  var list = document.querySelector(".mq-list");
  var status = document.getElementById("mq-status");
  var banDialog = document.getElementById("mq-ban-dialog");
  var help = document.getElementById("mq-help");
  if (!list || !status) return;

  function items() { return Array.prototype.slice.call(list.querySelectorAll(".mq-item")); }
  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest(".mq-item") : null;
  }
  function focusItem(item) {
    if (!item) return;
    item.focus();
    item.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = items();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    focusItem(all[next]);
  }
  function announce(message) {
    // Cleared first, so the same words twice in a row are still read out.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  // The tabs' counts follow what leaves the list; shadow-held comments are not in "all".
  function countDown(tab) {
    var count = document.querySelector('.mq-tabs [data-tab="' + tab + '"] .mq-count');
    if (count) count.textContent = Math.max(0, parseInt(count.textContent, 10) - 1);
  }

  function removeItem(item) {
    countDown(item.dataset.tab);
    if (item.dataset.tab !== "shadow") countDown("all");
    var all = items();
    var index = all.indexOf(item);
    var next = all[index + 1] || all[index - 1] || null;
    item.remove();
    if (next) {
      focusItem(next);
    } else {
      var empty = document.querySelector(".mq-empty");
      if (empty) {
        empty.hidden = false;
        empty.tabIndex = -1;
        empty.focus();
      }
      var bulk = document.getElementById("mq-bulk");
      if (bulk) bulk.hidden = true;
    }
  }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
        return body;
      });
    });
  }

  function addNote(form, note) {
    var item = form.closest(".mq-item");
    var notes = item && item.querySelector(".mq-notes");
    if (!notes) return;
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = note.author;
    var when = document.createElement("span");
    when.className = "mq-muted";
    when.textContent = note.created_at;
    li.append(who, " ", when, ": " + note.text);
    notes.append(li);
    form.reset();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("mq-action")) return;
    event.preventDefault();
    var kind = form.dataset.kind;
    var item = kind === "bulk" ? null : (form.closest(".mq-item") || findItem(form));
    send(form, event.submitter).then(function (body) {
      if (kind === "ban" && banDialog && banDialog.open) banDialog.close();
      announce(body.message);
      if (kind === "note") {
        addNote(form, body.note);
      } else if (kind === "bulk") {
        (body.comments || []).forEach(function (id) {
          var done = document.getElementById("queue-" + id);
          if (done) removeItem(done);
        });
        var all = document.querySelector("[data-select-all]");
        if (all) all.checked = false;
      } else if (item) {
        removeItem(item);
      }
    }).catch(function (error) {
      announce(error.message);
    });
  });

  // The ban form lives in its comment's <details>; the dialog borrows it while open.
  var borrowed = null;
  function findItem(form) { return borrowed && borrowed.form === form ? borrowed.item : null; }
  function openBan(item) {
    if (!banDialog) return;
    var form = item.querySelector(".mq-ban-form");
    if (!form) return;
    borrowed = { form: form, item: item, home: form.parentNode };
    banDialog.querySelector(".mq-dialog-body").append(form);
    if (form.dataset.title) banDialog.querySelector("h2").textContent = form.dataset.title;
    banDialog.showModal();
    var first = form.querySelector("input[name=duration]:checked") || form.querySelector("input");
    if (first) first.focus();
  }
  if (banDialog) {
    banDialog.addEventListener("close", function () {
      if (!borrowed) return;
      var back = borrowed;
      borrowed = null;
      if (document.body.contains(back.home)) back.home.append(back.form);
      else back.form.remove();
      if (document.body.contains(back.item)) focusItem(back.item);
    });
    banDialog.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || !borrowed) return;
      if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON" || target.tagName === "SUMMARY") return;
      event.preventDefault();
      borrowed.form.requestSubmit();
    });
  }
  list.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest(".mq-ban > summary");
    if (!summary || !banDialog) return;
    event.preventDefault();
    openBan(summary.closest(".mq-item"));
  });

  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      items().forEach(function (item) {
        var box = item.querySelector(".mq-select");
        if (box) box.checked = selectAll.checked;
      });
    });
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var key = event.key;
    if (key === "?") {
      event.preventDefault();
      if (help) help.showModal();
      return;
    }
    if (key === "j" || key === "k") {
      event.preventDefault();
      move(key === "j" ? 1 : -1);
      return;
    }
    if ("arsbxn".indexOf(key) < 0 || key.length !== 1) return;
    var item = current();
    if (!item) {
      // Nothing chosen yet: the first key shows which comment the next one acts on.
      event.preventDefault();
      move(1);
      return;
    }
    event.preventDefault();
    if (key === "b") {
      openBan(item);
    } else if (key === "x") {
      var box = item.querySelector(".mq-select");
      if (box) {
        box.checked = !box.checked;
        announce(box.checked ? box.dataset.selected || "✓" : box.dataset.unselected || "✗");
      }
    } else if (key === "n") {
      var note = item.querySelector(".mq-note-form textarea");
      if (note) note.focus();
    } else {
      var form = item.querySelector('form[data-key="' + key + '"]');
      if (form) form.requestSubmit();
    }
  });
})();
