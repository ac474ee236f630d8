// Scoring rule form: show only the parameters the chosen kind reads (all stay visible without JavaScript).
(function () {
  "use strict";
  function update() {
    var form = document.getElementById("rule-form");
    var data = document.getElementById("kind-params");
    if (!form || !data) return;
    var wanted = JSON.parse(data.textContent)[form.elements.kind.value] || [];
    form.querySelectorAll(".rule-param").forEach(function (el) {
      el.hidden = wanted.indexOf(el.dataset.param) === -1;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "kind") update();
  });
  document.addEventListener("DOMContentLoaded", update);
})();
