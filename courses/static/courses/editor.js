// Live preview for the module editor: the server renders with the same
// Markdown pipeline and sanitiser as published lessons.
(function () {
  "use strict";
  var source = document.getElementById("body");
  var preview = document.getElementById("preview");
  var blockNote = document.getElementById("preview-block");
  if (!source || !preview || !window.fetch) { return; }
  var timer = null;
  function render() {
    fetch(preview.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": preview.getAttribute("data-csrf") },
      body: JSON.stringify({ markdown: source.value, version_id: parseInt(preview.getAttribute("data-version"), 10) })
    }).then(function (response) { return response.json(); }).then(function (data) {
      preview.innerHTML = data.html;  // sanitised server-side by nh3
      blockNote.hidden = !data.completed_by_block;
    });
  }
  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(render, 300);
  });
  render();
})();

// Question form: show only the fields of the chosen type (without script all are shown,
// each labelled with the types it is for).
(function () {
  "use strict";
  var type = document.getElementById("type");
  var parts = document.querySelectorAll("[data-types]");
  if (!type || !parts.length) { return; }
  function update() {
    Array.prototype.forEach.call(parts, function (part) {
      part.hidden = part.getAttribute("data-types").split(" ").indexOf(type.value) < 0;
    });
  }
  type.addEventListener("change", update);
  update();
})();
