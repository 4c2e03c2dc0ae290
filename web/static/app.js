// zhucun console: the period picker shows only the input of the chosen
// kind, and a trend's count changes when another is picked. Pages work
// without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.querySelectorAll("form.period").forEach(function (form) {
    var kind = form.querySelector("#kind");
    function show() {
      form.querySelectorAll("[data-kind]").forEach(function (el) {
        var on = el.getAttribute("data-kind") === kind.value;
        el.hidden = !on;
        el.querySelectorAll("input, select").forEach(function (i) { i.disabled = !on; });
      });
    }
    kind.addEventListener("change", show);
    show();
  });
  document.querySelectorAll("select.autosubmit").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  document.querySelectorAll("form.review").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var b = ev.submitter;
      if (b && b.value === "return" && !form.comment.value.trim()) {
        ev.preventDefault();
        form.comment.focus();
        form.comment.setAttribute("aria-invalid", "true");
      }
    });
  });
})();
