/* gongji pages: the script every page loads (the desk's bill page adds desk.js). It checks a
   typed amount against the limits the page states (data-* attributes written by the server, in
   the server's own words; the server checks again on submit), and makes [data-print] buttons
   print the page (the browser's own print works as well). Nothing here is needed for a page to
   work. */
(function () {
  "use strict";

  function toFen(text) {
    var cleaned = (text.normalize ? text.normalize("NFKC") : text)
      .replace(/[\s,，]/g, "")
      .replace(/元$/, "");
    if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(cleaned)) {
      return null;
    }
    var parts = cleaned.split(".");
    var cents = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(cents, 10);
  }

  function problem(input) {
    var d = input.dataset;
    var text = input.value.trim();
    if (text === "") {
      return "";
    }
    var fen = toFen(text);
    if (fen === null) { return d.msgFormat; }
    if (fen === 0) { return d.msgZero; }
    if (fen > Number(d.maxFen)) { return d.msgLimit; }
    if (d.quietNow === "1") { return d.msgQuiet; }
    if (Number(d.grantsLeft) <= 0) { return d.msgCount; }
    if (fen > Number(d.largestFen)) { return d.msgBalance; }
    return "";
  }

  function check(input) {
    var out = document.getElementById(input.dataset.checkOutput);
    if (!out) {
      return;
    }
    var message = problem(input);
    out.textContent = message;
    out.hidden = message === "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    var inputs = document.querySelectorAll("input[data-check-output]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("input", function () { check(input); });
      // After a refusal the server's message is on the page already: say it once.
      var refused = input.form && input.form.querySelector(".error");
      if (input.value && !refused) {
        check(input);
      }
    });
  });
})();
