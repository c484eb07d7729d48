// Progressive enhancement for the resident's journey; every page works without it.
// 1. Questions shown only after an answer on the same page (data-show-if) hide until they apply.
// 2. "Imprimir esta página" buttons (hidden without JavaScript) print.
(function () {
  "use strict";

  function currentValue(form, name) {
    var inputs = form.querySelectorAll("[name=\"" + name + "\"]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { return input.value; }
      } else {
        return input.value;
      }
    }
    return "";
  }

  function update(form) {
    var dependants = form.querySelectorAll("[data-show-if]");
    for (var i = 0; i < dependants.length; i++) {
      var block = dependants[i];
      var value = currentValue(form, block.getAttribute("data-show-if"));
      var wanted = (block.getAttribute("data-show-values") || "").split("|");
      var show = wanted[0] === "*" ? value !== "" : wanted.indexOf(value) !== -1;
      // A question with an error stays visible so the resident sees the message.
      block.hidden = !show && !block.classList.contains("field--error");
    }
  }

  function init() {
    var forms = document.querySelectorAll("form.journey-form");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        if (!form.querySelector("[data-show-if]")) { return; }
        form.addEventListener("change", function () { update(form); });
        update(form);
      })(forms[i]);
    }
    var printers = document.querySelectorAll(".js-print");
    for (var j = 0; j < printers.length; j++) {
      printers[j].hidden = false;
      printers[j].addEventListener("click", function () { window.print(); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
