// Draws the ward's sites on a Leaflet map. The list below the map works without it, and
// the markers show even when no map tiles can be loaded (offline, closed network).
(function () {
  "use strict";
  var el = document.getElementById("map");
  var data = document.getElementById("sites-data");
  if (!el || typeof L === "undefined") { return; }
  var lat = parseFloat(el.getAttribute("data-lat")) || 20.8449;
  var lon = parseFloat(el.getAttribute("data-lon")) || 106.6881;
  var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 15);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  var sites = [];
  try { sites = JSON.parse(data ? data.textContent : "[]"); } catch (e) { sites = []; }
  var points = [];
  sites.forEach(function (s) {
    var m = L.circleMarker([s.lat, s.lon], { radius: 7, weight: 2, color: "#7a1f1f", fillOpacity: 0.7 });
    var a = document.createElement("a");
    a.href = "/sites/" + encodeURIComponent(s.id);
    a.textContent = s.name;
    var box = document.createElement("div");
    box.appendChild(a);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(s.kind));
    m.bindPopup(box).addTo(map);
    points.push([s.lat, s.lon]);
  });
  if (points.length > 1) { map.fitBounds(points, { padding: [20, 20], maxZoom: 16 }); }
})();
