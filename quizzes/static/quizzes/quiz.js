// Quiz form: counts answers as the learner goes and, before the first submit,
// lists the questions left unanswered (the server scores them as unanswered).
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var progress = document.getElementById("quiz-progress");
  var warning = document.getElementById("unanswered");
  var meter = document.getElementById("quiz-progress-bar");
  var fill = meter ? meter.querySelector(".progress-bar") : null;
  if (meter) { meter.hidden = false; }  // without the script, the text alone says the count
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  var warned = false;
  function answered(fieldset) {
    var inputs = fieldset.querySelectorAll("input, select");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") { return true; }
    }
    return false;
  }
  function update() {
    var done = questions.filter(answered).length;
    var text = progress.getAttribute("data-template")
      .replace("{done}", done).replace("{total}", questions.length);
    progress.textContent = text;
    if (meter && fill) {
      // Widths are classes (qz-w-0 ... qz-w-100 in steps of 5): no style attribute.
      var share = questions.length ? Math.floor(20 * done / questions.length) * 5 : 0;
      fill.className = "progress-bar qz-w-" + share;
      meter.setAttribute("aria-valuenow", String(done));
      meter.setAttribute("aria-valuetext", text);
    }
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  form.addEventListener("submit", function (event) {
    var missing = questions.filter(function (q) { return !answered(q); });
    if (missing.length && !warned) {
      event.preventDefault();
      warned = true;
      warning.textContent = warning.getAttribute("data-template")
        .replace("{list}", missing.map(function (q) { return q.getAttribute("data-question"); }).join(", "));
      warning.hidden = false;
      warning.focus();
    }
  });
  warning.setAttribute("tabindex", "-1");
  update();
})();
