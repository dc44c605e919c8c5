// A job's progress page kept up to date while the job runs, without reloading it: every few
// seconds the page is fetched again and the parts whose text changed are swapped in. A reload
// (the meta refresh the page falls back on without script) would move keyboard focus and a
// screen reader's place back to the top each time; here they stay put, and the updates can be
// paused (WCAG 2.2.2). The end of the job is announced.
(function () {
  var page = document.querySelector("[data-refresh]");
  if (!page) { return; }
  var every = Number(page.getAttribute("data-refresh")) * 1000;
  var parts = ["job-state", "job-progress", "job-outcome", "job-cancel", "job-messages"];
  var pause = document.getElementById("job-pause");
  var announce = document.getElementById("job-announce");
  var paused = false;
  var timer = null;

  function swap(fresh) {
    parts.forEach(function (id) {
      var old = document.getElementById(id);
      var now = fresh.getElementById(id);
      if (old && now && old.textContent !== now.textContent) { old.replaceWith(now); }
      else if (old && !now) { old.remove(); }
    });
  }

  function tick() {
    timer = null;
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        // Signed out, or the server busy: try again later, the page stays as it is.
        return response.ok && response.url === window.location.href ? response.text() : "";
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!fresh.getElementById("job-progress")) { schedule(); return; }
        swap(fresh);
        if (fresh.querySelector("[data-refresh]")) { schedule(); return; }
        // Finished: say so, and stop.
        pause.remove();
        announce.textContent = document.querySelector("h1").textContent;
      }, schedule);
  }

  function schedule() {
    if (!paused && timer === null) { timer = window.setTimeout(tick, every); }
  }

  pause.hidden = false;
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    if (paused && timer !== null) { window.clearTimeout(timer); timer = null; }
    if (!paused) { tick(); }
  });
  schedule();
})();
