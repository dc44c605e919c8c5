// "Tick all" above a list of checkboxes: shown only when JavaScript can work it.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var scope = document.getElementById(box.getAttribute("data-select-all"));
    var boxes = scope.querySelectorAll("tbody input[type=checkbox]");
    box.closest("[hidden]") && box.closest("[hidden]").removeAttribute("hidden");
    box.addEventListener("change", function () {
      boxes.forEach(function (each) { each.checked = box.checked; });
    });
    scope.addEventListener("change", function (event) {
      if (event.target === box) { return; }
      var ticked = Array.prototype.filter.call(boxes, function (each) { return each.checked; }).length;
      box.checked = ticked === boxes.length;
      box.indeterminate = ticked > 0 && ticked < boxes.length;
    });
  });
})();
