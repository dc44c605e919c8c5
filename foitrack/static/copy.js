// The "Copy the lines" button: shown only where the Clipboard API is there to use.
(function () {
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
      });
    });
  });
})();
