// Check-in from the field: adds the phone's position to check-in forms, and keeps a
// check-in made without network on the phone (localStorage) until it can be sent.
(function () {
  'use strict';
  var KEY = 'wardwatch.pendingCheckins';
  var notice = document.getElementById('offline-queue');

  function pending() {
    try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; }
  }
  function save(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function show(text) {
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function position(done) {
    if (!navigator.geolocation) { done(null); return; }
    var finished = false;
    var timer = setTimeout(function () { if (!finished) { finished = true; done(null); } }, 8000);
    navigator.geolocation.getCurrentPosition(function (p) {
      if (finished) return;
      finished = true; clearTimeout(timer); done(p.coords);
    }, function () {
      if (finished) return;
      finished = true; clearTimeout(timer); done(null);
    }, { enableHighAccuracy: true, timeout: 7000, maximumAge: 60000 });
  }

  function flush() {
    var list = pending();
    if (!list.length || !navigator.onLine) { if (list.length) show(list.length + ' ⏳'); return; }
    var item = list[0];
    fetch('/api/v1/duty/checkins', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': item.csrf },
      body: JSON.stringify(item.body)
    }).then(function (res) {
      // Sent, or refused for good (4xx): either way it leaves the queue.
      if (res.status < 500) {
        save(pending().filter(function (x) { return x.body.client_id !== item.body.client_id; }));
        if (res.ok) { location.reload(); return; }
        return res.json().then(function (p) { show(p.detail || p.title || String(res.status)); });
      }
      show(pending().length + ' ⏳');
    }).catch(function () { show(pending().length + ' ⏳'); });
  }

  document.querySelectorAll('form.checkin').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (form.dataset.ready === '1') return;
      ev.preventDefault();
      var kind = ev.submitter && ev.submitter.name === 'kind' ? ev.submitter.value : 'in';
      var idField = form.querySelector('[name=client_id]');
      var clientId = newId();
      if (idField) idField.value = clientId;
      position(function (c) {
        if (c) {
          form.querySelector('[name=lat]').value = c.latitude;
          form.querySelector('[name=lon]').value = c.longitude;
          form.querySelector('[name=accuracy]').value = Math.round(c.accuracy);
        }
        var assignment = form.dataset.assignment;
        if (!navigator.onLine && assignment) {
          var list = pending();
          list.push({
            csrf: form.querySelector('[name=csrf]').value,
            body: {
              assignment: Number(assignment), kind: kind,
              lat: c ? c.latitude : null, lon: c ? c.longitude : null,
              accuracy: c ? c.accuracy : null,
              at: new Date().toISOString(), client_id: clientId
            }
          });
          save(list);
          show(list.length + ' ⏳');
          return;
        }
        form.dataset.ready = '1';
        if (ev.submitter && ev.submitter.name === 'kind') {
          var k = document.createElement('input');
          k.type = 'hidden'; k.name = 'kind'; k.value = kind;
          form.appendChild(k);
        }
        form.submit();
      });
    });
  });

  window.addEventListener('online', flush);
  flush();
})();
