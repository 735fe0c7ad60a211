/* The desk's item search (结算台查找项目): as the cashier types a name or code, ask
   /desk/catalogue/search and list what the catalogue holds; picking an item writes its code
   and price into the first empty line (the price locked when the catalogue fixes it) and names
   it under the line. The server decides again on pre-settlement: a fixed price is the only one
   it accepts. Without this script the search box opens the catalogue page, and the scan field
   with Enter adds items on the server. */
(function () {
  "use strict";

  var WAIT_MS = 200;

  function describe(item) {
    var price = item.price_ceiling === null ? "" :
      (item.price_fixed ? " · 统一定价 " : " · 限价 ") + item.price_ceiling + " 元";
    return item.name + " · " + item.code + " · " + item.class_label + price;
  }

  function lineNote(item) {
    if (item.price_fixed) {
      return item.name + " · " + item.class_label + " · 统一定价 " + item.price_ceiling + " 元";
    }
    var ceiling = item.price_ceiling === null ? "无限价" : "限价 " + item.price_ceiling + " 元";
    return item.name + " · " + item.class_label + " · " + ceiling + "，单价由本机构填写";
  }

  function fill(form, item, status) {
    var lines = form.querySelectorAll("fieldset[data-line]");
    for (var i = 0; i < lines.length; i += 1) {
      var n = lines[i].dataset.line;
      var code = form.elements["item_code_" + n];
      if (code && code.value.trim() === "") {
        var price = form.elements["unit_price_" + n];
        code.value = item.code;
        form.elements["quantity_" + n].value = "1";
        price.readOnly = item.price_fixed;
        price.value = item.price_fixed ? item.price_ceiling : "";
        document.getElementById("line-item-" + n).textContent = lineNote(item);
        (item.price_fixed ? code : price).focus();
        status.textContent = "已加入第 " + (Number(n) + 1) + " 项：" + item.name;
        status.hidden = false;
        return;
      }
    }
    // Every line shown is taken: the server adds a line, as for a scan.
    form.elements.scan.value = item.code;
    form.querySelector("button[formaction='/desk/find']").click();
  }

  function show(list, status, items, form, input) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary pick";
      button.textContent = describe(item);
      button.dataset.code = item.code;
      button.addEventListener("click", function () {
        list.hidden = true;
        input.value = "";
        fill(form, item, status);
      });
      li.appendChild(button);
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    status.textContent = items.length === 0 ? "目录中没有找到" : "找到 " + items.length + " 项";
    status.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-item-search]");
    if (!box) {
      return;
    }
    var input = document.getElementById("f-q");
    var list = document.getElementById("item-results");
    var status = document.getElementById("item-search-status");
    var form = document.getElementById("f-scan").form;
    var timer = null;
    var asked = 0;

    function search() {
      var text = input.value.trim();
      var mine = (asked += 1);
      if (text === "") {
        list.hidden = true;
        status.hidden = true;
        return;
      }
      fetch("/desk/catalogue/search?q=" + encodeURIComponent(text), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (answer) {
        return answer.json().then(function (body) { return { ok: answer.ok, body: body }; });
      }).then(function (got) {
        if (mine !== asked) {
          return; // a later search is on its way
        }
        if (!got.ok) {
          list.hidden = true;
          status.textContent = got.body.message;
          status.hidden = false;
          return;
        }
        show(list, status, got.body.items, form, input);
      }).catch(function () {
        status.textContent = "查询失败，请稍后再试或使用医保目录页";
        status.hidden = false;
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, WAIT_MS);
    });
    document.getElementById("item-search").addEventListener("submit", function (event) {
      event.preventDefault(); // Enter picks the first answer when there is one
      window.clearTimeout(timer);
      var first = list.querySelector("button.pick");
      if (first && !list.hidden) {
        first.click();
      } else {
        search();
      }
    });
  });
})();
