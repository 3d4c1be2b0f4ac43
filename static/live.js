// Live warnings: every page listens to its ward's warnings (the ward in its path, else
// the account's ward) and shows a banner that stays until it is dismissed. Reconnects
// resume from the last event (the browser sends Last-Event-ID).
(function () {
  "use strict";
  var banner = document.getElementById("warning-banner");
  if (!banner || typeof EventSource === "undefined") { return; }
  var dismissLabel = banner.getAttribute("data-dismiss") || "OK";
  var loggedIn = banner.getAttribute("data-logged-in") === "true";
  function seenKey(id) { return "ww-warning-seen-" + id; }
  function show(w) {
    if (w.msg_type === "cancel") {
      var old = document.getElementById("warning-" + w.warning_id);
      if (old) { old.remove(); }
      banner.hidden = banner.children.length === 0;
      return;
    }
    // A dismissal holds for one version of a warning; an update shows again.
    var version = w.warning_id + ":" + w.updated_at;
    if (localStorage.getItem(seenKey(version))) { return; }
    var box = document.getElementById("warning-" + w.warning_id) || document.createElement("div");
    box.id = "warning-" + w.warning_id;
    box.className = "banner-item sev-" + String(w.severity).toLowerCase();
    box.textContent = "";
    var title = document.createElement("a");
    title.href = "/warnings/" + encodeURIComponent(w.warning_id);
    title.className = "banner-title";
    title.textContent = w.headline;
    var body = document.createElement("p");
    body.textContent = w.body + (w.instruction ? "\n" + w.instruction : "");
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = "secondary";
    ok.textContent = dismissLabel;
    ok.addEventListener("click", function () {
      localStorage.setItem(seenKey(version), "1");
      if (loggedIn) {
        fetch("/api/v1/warnings/" + encodeURIComponent(w.warning_id) + "/read", { method: "POST", credentials: "same-origin" }).catch(function () {});
      }
      box.remove();
      banner.hidden = banner.children.length === 0;
    });
    box.appendChild(title);
    box.appendChild(body);
    box.appendChild(ok);
    if (!box.parentNode) { banner.appendChild(box); }
    banner.hidden = false;
  }
  function listen(ward) {
    if (!ward) { return; }
    var es = new EventSource("/api/v1/warnings/stream?ward=" + encodeURIComponent(ward));
    es.addEventListener("warning", function (e) {
      try { show(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
    // Warnings already in force when the page opened.
    fetch("/api/v1/warnings?ward=" + encodeURIComponent(ward), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        list.forEach(function (w) {
          show({ warning_id: w.id, updated_at: w.updated_at, msg_type: "alert", severity: w.severity,
                 headline: w.headline, body: w.body, instruction: w.instruction });
        });
      }).catch(function () {});
  }
  var ward = banner.getAttribute("data-ward");
  if (ward) {
    listen(ward);
  } else if (loggedIn) {
    fetch("/api/v1/me", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (me) { listen(me.ward); })
      .catch(function () {});
  }
})();
