// Sorting and filtering of readers' tables (class wb-sortable), written for these pages:
// no library, nothing fetched. It reads the cells already on the page; no data are
// written into this script. A click on a header sorts by that column (again: reversed,
// a third time: the table's own order); the box above a table keeps the rows whose text
// contains what is typed. Numbers sort as numbers: "1,234.5", "(98.7)", "12.3%" and
// "−∞" are read as such, and blanks ("—") go last whichever way.
(function () {
  "use strict";
  var MINUS = "\u2212", DASH = "\u2014", INF = "\u221E";
  // A name too long for its cell is shown shortened with the whole in its title
  // (analysis.tables.names): sorting and filtering go by the whole name.
  function full(cell) { return cell.getAttribute("title") || cell.textContent; }
  function value(cell) {
    var s = full(cell).trim();
    if (s === DASH || s === "") { return null; }
    var n = s.replace(/^\((.*)\)$/, "$1").replace(/,/g, "").replace(/[%\u2030]$/, "").replace(MINUS, "-");
    if (n === INF) { return Infinity; }
    if (n === "-" + INF) { return -Infinity; }
    if (/^-?\d+(\.\d+)?$/.test(n)) { return parseFloat(n); }
    return s;
  }
  function compare(a, b) {
    if (a === null || b === null) { return a === null ? (b === null ? 0 : 1) : -1; }
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    return String(a).localeCompare(String(b), document.documentElement.lang || undefined, {numeric: true});
  }
  function refold(table) {
    // keep the folded rows the ones after the first screenful of what is now shown
    var fold = table.getAttribute("data-fold");
    if (!fold) { return; }
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (row.hidden) { row.classList.remove("wb-later"); return; }
      row.classList.toggle("wb-later", shown >= fold);
      shown += 1;
    });
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var state = th.getAttribute("aria-sort");
    var next = state === "ascending" ? "descending" : state === "descending" ? "none" : "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", next);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      if (next === "none") { return r1.wbOrder - r2.wbOrder; }
      var a = value(r1.cells[col]), b = value(r2.cells[col]);
      var c = (a === null || b === null) ? compare(a, b) : (next === "ascending" ? compare(a, b) : compare(b, a));
      return c || r1.wbOrder - r2.wbOrder;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    refold(table);
  }
  function filter(table, words) {
    var w = words.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var text = Array.prototype.map.call(row.cells, full).join(" ");
      row.hidden = w !== "" && text.toLowerCase().indexOf(w) < 0;
    });
    refold(table);
  }
  function setUp(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var later = table.tBodies[0].querySelector("tr.wb-later");
    if (later) { table.setAttribute("data-fold", later.rowIndex - 1); }
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r, i) { r.wbOrder = i; });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.setAttribute("aria-sort", "none");
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); }
      });
    });
    if (table.tBodies[0].rows.length > 10) {
      var box = document.createElement("input");
      box.type = "search";
      box.className = "wb-filter";
      var holder = table.closest(".wb-table") || table;
      // the words come from the page (data-filter-label), in its language
      box.placeholder = holder.getAttribute("data-filter-label") || "";
      box.setAttribute("aria-label", box.placeholder);
      box.addEventListener("input", function () { filter(table, box.value); });
      holder.parentNode.insertBefore(box, holder);
    }
  }
  function start() { Array.prototype.forEach.call(document.querySelectorAll("table.wb-sortable"), setUp); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
