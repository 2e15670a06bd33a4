// Module page heartbeat: tells the server the learner is reading (starts the
// module, keeps "resume where you left off", estimates time spent).
(function () {
  "use strict";
  var lesson = document.getElementById("lesson");
  if (!lesson || !window.fetch) { return; }
  var url = lesson.getAttribute("data-seen-url");
  var token = lesson.getAttribute("data-csrf");
  function ping() {
    if (document.visibilityState !== "visible") { return; }
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token } });
  }
  ping();
  window.setInterval(ping, 60000);
})();
