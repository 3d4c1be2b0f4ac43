// "Get warnings on this phone": registers the service worker and a push subscription
// for the ward of the page, when the server has web push configured.
(function () {
  "use strict";
  var btn = document.getElementById("push-subscribe");
  if (!btn || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
  var ward = btn.getAttribute("data-ward");
  function b64ToBytes(s) {
    var pad = "=".repeat((4 - s.length % 4) % 4);
    var raw = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  fetch("/api/v1/push/key").then(function (r) { return r.ok ? r.json() : null; }).then(function (k) {
    if (!k || !k.key) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.serviceWorker.register("/sw.js").then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(k.key) });
      }).then(function (sub) {
        return fetch("/api/v1/subscriptions", {
          method: "POST", credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ward: ward, channel: "webpush", subscription: sub.toJSON() })
        });
      }).then(function (r) {
        if (r && r.ok) { btn.textContent = btn.getAttribute("data-done"); btn.disabled = true; }
      }).catch(function () {});
    });
  }).catch(function () {});
})();
