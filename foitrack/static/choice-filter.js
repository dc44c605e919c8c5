// The search box over the aggregate page's lists of sets and authorities: it hides the boxes
// whose names do not hold what is typed. Shown only when JavaScript can work it; ticking the
// boxes and sending the form need none.
(function () {
  "use strict";
  function fold(text) {  // as the server compares names: no case, no accents
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.querySelectorAll("[data-choice-filter]").forEach(function (group) {
    var search = group.querySelector("input[type=search]");
    var count = group.querySelector("[data-choice-count]");
    var items = document.getElementById(search.getAttribute("aria-controls"))
      .querySelectorAll(".checkbox");
    group.hidden = false;
    search.addEventListener("input", function () {
      var wanted = fold(search.value.trim());
      var shown = 0;
      items.forEach(function (item) {
        // A hidden box stays ticked: the search narrows what is shown, not what is chosen.
        var match = !wanted || fold(item.textContent).indexOf(wanted) !== -1;
        item.style.display = match ? "" : "none";
        shown += match ? 1 : 0;
      });
      count.textContent = wanted ? shown + " of " + items.length + " shown" : "";
    });
    // Enter in the search box would send the form half chosen: here it only searches.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  });
})();
