// The figure grid moves like a spreadsheet: arrow keys and Enter go between cells, Tab and
// Shift+Tab go along the row (the browser's own order), and a cell's text is selected on entry
// so a new figure replaces the old. Without JavaScript the grid is an ordinary form.
(function () {
  "use strict";
  var tables = document.querySelectorAll("table[data-grid]");
  document.documentElement.classList.add("js");

  function cellAt(table, row, col) {
    var rows = table.tBodies[0].rows;
    if (row < 0 || row >= rows.length) { return null; }
    var cells = rows[row].querySelectorAll("input.cell");
    return col >= 0 && col < cells.length ? cells[col] : null;
  }

  // The same column in another table's row, or its last cell when that table is narrower.
  function nearest(table, row, col) {
    var cells = table.tBodies[0].rows[row].querySelectorAll("input.cell");
    return cells[Math.min(col, cells.length - 1)] || null;
  }

  function position(input) {
    var tr = input.closest("tr");
    var cells = Array.prototype.slice.call(tr.querySelectorAll("input.cell"));
    return { row: tr.sectionRowIndex, col: cells.indexOf(input) };
  }

  // Up and down leave the table for the one above or below, in the same column where it exists.
  function neighbourTable(table, step) {
    var all = Array.prototype.slice.call(tables);
    return all[all.indexOf(table) + step] || null;
  }

  tables.forEach(function (table) {
    table.addEventListener("focusin", function (event) {
      if (event.target.matches("input.cell")) { event.target.select(); }
    });
    table.addEventListener("keydown", function (event) {
      var input = event.target;
      if (!input.matches("input.cell") || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var at = position(input);
      var whole = input.selectionStart === 0 && input.selectionEnd === input.value.length;
      var target = null;
      switch (event.key) {
        case "ArrowUp":
          target = cellAt(table, at.row - 1, at.col);
          if (!target) {
            var above = neighbourTable(table, -1);
            if (above) { target = nearest(above, above.tBodies[0].rows.length - 1, at.col); }
          }
          break;
        case "ArrowDown":
        case "Enter":
          if (event.key === "Enter" && event.shiftKey) { target = cellAt(table, at.row - 1, at.col); break; }
          target = cellAt(table, at.row + 1, at.col);
          if (!target) {
            var below = neighbourTable(table, 1);
            if (below) { target = nearest(below, 0, at.col); }
          }
          if (event.key === "Enter") { event.preventDefault(); }
          break;
        case "ArrowLeft":
          // Inside a cell's text the arrow moves the caret; at its start, or with the whole
          // text selected, it moves to the next cell.
          if (input.selectionStart === 0 && (input.selectionEnd === 0 || whole)) {
            target = cellAt(table, at.row, at.col - 1);
          }
          break;
        case "ArrowRight":
          if (input.selectionEnd === input.value.length && (input.selectionStart === input.value.length || whole)) {
            target = cellAt(table, at.row, at.col + 1);
          }
          break;
        default:
          return;
      }
      if (target) {
        event.preventDefault();
        target.focus();
      }
    });
  });
})();
