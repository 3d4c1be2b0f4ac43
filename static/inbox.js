// The officers' inbox: new reports arrive over Server-Sent Events and the list reloads
// in place, without reloading the page.
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  if (!note || typeof EventSource === "undefined") { return; }
  var ward = note.getAttribute("data-ward");
  var banner = document.getElementById("new-reports");
  var es = new EventSource("/api/v1/reports/stream?ward=" + encodeURIComponent(ward));
  es.addEventListener("report", function () {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("inbox-list");
        var list = document.getElementById("inbox-list");
        if (fresh && list) { list.replaceWith(fresh); }
        if (banner) { banner.hidden = false; }
      });
  });
})();
