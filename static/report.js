// The report form on a phone: fill the position from the device, and show reports made
// nearby in the last hours so that the same fire is not reported ten times.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var ward = form.getAttribute("data-ward");
  var lat = form.querySelector("input[name=lat]");
  var lon = form.querySelector("input[name=lon]");
  var btn = document.getElementById("use-position");
  var box = document.getElementById("nearby");
  function nearby() {
    if (!lat.value || !lon.value || !box) { return; }
    var url = "/api/v1/reports/nearby?ward=" + encodeURIComponent(ward) +
      "&lat=" + encodeURIComponent(lat.value) + "&lon=" + encodeURIComponent(lon.value);
    fetch(url).then(function (r) { return r.ok ? r.json() : []; }).then(function (list) {
      var ul = box.querySelector("ul");
      ul.textContent = "";
      list.forEach(function (n) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/track/" + encodeURIComponent(n.tracking_code);
        a.textContent = n.tracking_code;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" · " + n.category + " · ~" + n.distance_m + " m · " +
          new Date(n.created_at).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" })));
        ul.appendChild(li);
      });
      box.hidden = list.length === 0;
    }).catch(function () {});
  }
  if (btn && navigator.geolocation) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(6);
        lon.value = p.coords.longitude.toFixed(6);
        nearby();
      }, function () {}, { enableHighAccuracy: true, timeout: 10000 });
    });
  }
  lat.addEventListener("change", nearby);
  lon.addEventListener("change", nearby);
  var anon = document.getElementById("anonymous");
  var contact = form.querySelector(".contact");
  function toggle() { if (contact) { contact.hidden = anon.checked; } }
  if (anon) { anon.addEventListener("change", toggle); toggle(); }
})();
