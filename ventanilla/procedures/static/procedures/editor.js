// Online-procedure editor: progressive enhancement only. Without this file every input is shown
// and every action is a plain form; with it, the question form shows only the rules that apply to
// the chosen answer type and the condition details only when a condition is chosen.
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }

  function syncTypes() {
    var select = byId("id_type");
    if (!select) { return; }
    var blocks = document.querySelectorAll(".type-specific[data-types]");
    for (var i = 0; i < blocks.length; i++) {
      var types = blocks[i].getAttribute("data-types").split(" ");
      blocks[i].classList.toggle("is-hidden", types.indexOf(select.value) === -1);
    }
  }

  function syncCondition() {
    var field = byId("id_condition_field");
    var detail = document.querySelector(".condition-detail");
    if (!field || !detail) { return; }
    detail.classList.toggle("is-hidden", field.value === "");
    var operator = byId("id_condition_operator");
    var value = byId("id_condition_value");
    if (operator && value) {
      var wrapper = value.closest(".field");
      if (wrapper) { wrapper.classList.toggle("is-hidden", operator.value === "filled"); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var type = byId("id_type");
    if (type) { type.addEventListener("change", syncTypes); syncTypes(); }
    ["id_condition_field", "id_condition_operator"].forEach(function (id) {
      var el = byId(id);
      if (el) { el.addEventListener("change", syncCondition); }
    });
    syncCondition();
  });
})();
