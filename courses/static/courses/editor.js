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
