/* Lists: select all rows on the page, the bulk bar's count and its relevant fields, and the
   confirmation flag. No inline handlers (strict CSP); the page works without this file
   (the server then asks for confirmation on a page of its own). */
(function () {
  'use strict';

  var doc = document;

  function bulkForm() { return doc.getElementById('bulk-form'); }
  function rowChecks() { return doc.querySelectorAll('#list-results [data-row-check]'); }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key] !== undefined ? values[key] : ''; });
  }

  function update() {
    var form = bulkForm();
    if (!form) return;
    var checks = rowChecks();
    var selected = 0;
    for (var i = 0; i < checks.length; i++) if (checks[i].checked) selected++;

    var all = doc.querySelector('#list-results [data-select-all]');
    if (all) {
      all.hidden = false;
      all.checked = checks.length > 0 && selected === checks.length;
      all.indeterminate = selected > 0 && selected < checks.length;
    }

    var count = form.querySelector('[data-bulk-count]');
    if (!count.dataset.idle) count.dataset.idle = count.textContent;
    count.textContent = selected ? fill(form.dataset.selectedTemplate, { n: selected }) : count.dataset.idle;
    form.toggleAttribute('data-selected', selected > 0);

    var action = form.elements.action;
    var chosen = action ? action.value : '';
    var options = form.querySelectorAll('[data-bulk-for]');
    for (var j = 0; j < options.length; j++) {
      var hasError = !!options[j].querySelector('.field-error');
      options[j].hidden = options[j].dataset.bulkFor !== chosen && !hasError;
    }

    // Ask before applying, naming the action and the count; with nothing ticked the server says so.
    if (selected && chosen) {
      var label = action.options[action.selectedIndex].text;
      form.setAttribute('data-confirm', fill(form.dataset.confirmTemplate, { action: label, n: selected }));
    } else {
      form.removeAttribute('data-confirm');
    }
  }

  doc.addEventListener('change', function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches('[data-select-all]')) {
      var checks = rowChecks();
      for (var i = 0; i < checks.length; i++) checks[i].checked = target.checked;
    }
    if (target.matches('[data-select-all], [data-row-check], #bulk-form select[name="action"]')) update();
  });

  // Runs after app.js's confirm (capture phase): the user said yes, so skip the server's confirmation page.
  doc.addEventListener('submit', function (event) {
    var form = event.target;
    if (form !== bulkForm() || !form.hasAttribute('data-confirm')) return;
    var flag = form.querySelector('[data-bulk-confirmed]');
    if (flag) flag.value = '1';
  });

  // htmx swaps in new rows when a filter or the page changes: count again.
  function init() {
    update();
    if (doc.body) doc.body.addEventListener('htmx:afterSwap', update);
  }
  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
