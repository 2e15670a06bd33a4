// Quiz form: counts answers as the learner goes and, before the first submit,
// lists the questions left unanswered (the server scores them as unanswered).
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var progress = document.getElementById("quiz-progress");
  var warning = document.getElementById("unanswered");
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
    progress.textContent = progress.getAttribute("data-template")
      .replace("{done}", done).replace("{total}", questions.length);
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
