// The profile page's sign-in: keeps the browser key the form's answer brings, and completes
// the sign-in when the e-mailed link leads back here with its token in the fragment.
(function () {
  "use strict";
  // The browser key stays in this browser: the e-mailed link signs in only where it was asked.
  var KEY = "parley.profile.browserKey";
  var status = document.getElementById("parley-signin-status");
  var fresh = document.getElementById("parley-browser-key");
  if (fresh) localStorage.setItem(KEY, JSON.parse(fresh.textContent));
  var match = /^#parley-signin=([\w-]+)$/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, "", location.pathname);
  status.hidden = false;
  status.textContent = status.dataset.working;
  fetch(status.dataset.complete, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: match[1], browser_key: localStorage.getItem(KEY) || "" }),
  }).then(function (response) {
    return response.json().then(function (body) {
      if (!response.ok) { status.textContent = body.error.message; return; }
      localStorage.removeItem(KEY);
      location.reload();
    });
  }).catch(function () { status.textContent = status.dataset.failed; });
})();
