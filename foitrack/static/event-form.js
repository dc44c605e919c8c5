// The add-event form shows only the fields the chosen kind of event takes. Each such field's
// group says which kinds take it (data-kinds) and which cannot do without it
// (data-required-kinds), both from foitrack.domain.timeline.EVENT_FIELDS, the list the server
// checks against. A hidden field is disabled too, so a value typed before the kind was changed
// is not sent; a field the server marked wrong stays in sight. Without JavaScript every field
// shows, its hint naming the kinds that take it.
(function () {
  "use strict";

  function listed(group, attribute, kind) {
    return (group.getAttribute(attribute) || "").split(" ").indexOf(kind) !== -1;
  }

  document.querySelectorAll("form[data-event-form]").forEach(function (form) {
    var kind = form.querySelector("select[name=kind]");
    var groups = form.querySelectorAll("[data-kinds]");
    if (!kind) { return; }

    function show() {
      groups.forEach(function (group) {
        var takes = listed(group, "data-kinds", kind.value) ||
          group.querySelector(".error-message") !== null;
        var needs = takes && listed(group, "data-required-kinds", kind.value);
        group.hidden = !takes;
        group.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !takes;
          input.required = needs;
          if (needs) {
            input.setAttribute("aria-required", "true");
          } else {
            input.removeAttribute("aria-required");
          }
        });
      });
    }

    kind.addEventListener("change", show);
    show();
  });
})();
