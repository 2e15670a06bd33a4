// Module page heartbeat: tells the server the learner is reading. The server credits
// real time since the person's previous heartbeat, bounded (courses/study.py); this
// page only pings while the tab is visible and focused and the learner did something
// (pointer, key, scroll, touch) in the last two minutes, so idle time is not sent.
// The answer updates the quiet status line (time tracked, what remains): plain text,
// no live region, changing at most once a minute.
(function () {
  "use strict";
  var lesson = document.getElementById("lesson");
  if (!lesson || !window.fetch) { return; }
  var url = lesson.getAttribute("data-seen-url");
  var csrf = lesson.getAttribute("data-csrf");
  var token = lesson.getAttribute("data-study-token") || "";
  var status = document.getElementById("study-status");
  var INTERVAL = 30000;   // courses.study.INTERVAL
  var IDLE = 120000;      // no activity for this long: the learner is away
  var lastActivity = Date.now();
  var lastPing = 0;
  var stopped = false;

  function active() { lastActivity = Date.now(); }
  ["pointerdown", "pointermove", "keydown", "scroll", "wheel", "touchstart"].forEach(
    function (name) { window.addEventListener(name, active, { passive: true }); }
  );

  function studying() {
    return document.visibilityState === "visible" && document.hasFocus() &&
      Date.now() - lastActivity < IDLE;
  }

  function show(message) {
    if (status && message && status.textContent !== message) {
      status.textContent = message;
      status.hidden = false;
    }
  }

  function ping() {
    if (stopped || !studying()) { return; }
    lastPing = Date.now();
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrf,
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: "token=" + encodeURIComponent(token)
    }).then(function (response) {
      // A refused heartbeat (stale page, another session): say so and stop pinging.
      if (!response.ok) { stopped = true; }
      return response.json();
    }).then(function (data) {
      show(data && data.message);
    }).catch(function () { /* offline for a moment: the next ping tries again */ });
  }

  // Back on the page after a pause: ping at once, so the clock restarts from here.
  function resumed() {
    active();
    if (Date.now() - lastPing > 5000) { ping(); }
  }
  window.addEventListener("focus", resumed);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { resumed(); }
  });

  ping();
  window.setInterval(ping, INTERVAL);
})();
