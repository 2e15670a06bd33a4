// A job's page follows its progress: asks for its status every 1.5 s until it has
// finished, moves the progress bar and reads the count out (aria-live), then reloads
// once to show the result with its links. Without JavaScript the page has a link.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-progress-text");
  function show(percent) {
    bar.className = bar.className.replace(/jobs-w-\d+/, "jobs-w-" + Math.floor(percent / 5) * 5);
    bar.setAttribute("aria-valuenow", String(percent));
  }
  show(Number(bar.getAttribute("data-percent")) || 0);
  if (box.getAttribute("data-finished") === "true") { return; }
  var url = box.getAttribute("data-status-url");
  var format = new Intl.NumberFormat(document.documentElement.lang || "it");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 5000); return; }
        if (job.finished) { window.location.reload(); return; }
        var label = box.getAttribute("data-label-" + job.status);
        var badge = document.getElementById("job-status-label");
        if (label && badge && badge.textContent !== label) { badge.textContent = label; }
        if (job.total) {
          show(job.percent || 0);
          text.textContent = format.format(job.done) + " / " + format.format(job.total) +
            " (" + (job.percent || 0) + " %)";
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
