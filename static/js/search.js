/* Sampark global search: keyboard support for the top bar's results dropdown.
   htmx fetches the results (hx-get on #global-search); this file only adds the combobox behaviour:
   ArrowDown/ArrowUp move through the options, Home/End jump, Enter opens the option, Escape or a click
   elsewhere closes the list. No inline handlers or styles (strict CSP); without it the links still work. */
(function () {
  'use strict';

  if (window.samparkSearch) return; // loaded twice (page and shell): one set of handlers
  window.samparkSearch = true;

  var doc = document;

  function parts() {
    var input = doc.getElementById('global-search');
    var panel = doc.getElementById('search-results');
    return input && panel ? { input: input, panel: panel } : null;
  }

  function options(panel) {
    return Array.prototype.slice.call(panel.querySelectorAll('[role="option"]'));
  }

  function isOpen(panel) {
    return panel.childElementCount > 0;
  }

  function sync(p) {
    var open = isOpen(p.panel);
    p.input.setAttribute('aria-expanded', open ? 'true' : 'false');
    var listbox = p.panel.querySelector('[role="listbox"]');
    if (listbox) p.input.setAttribute('aria-controls', listbox.id);
    if (!open) p.input.removeAttribute('aria-activedescendant');
  }

  function activate(p, index) {
    var list = options(p.panel);
    if (!list.length) return;
    index = (index + list.length) % list.length;
    list.forEach(function (option, i) { option.setAttribute('aria-selected', i === index ? 'true' : 'false'); });
    p.input.setAttribute('aria-activedescendant', list[index].id);
    list[index].scrollIntoView({ block: 'nearest' });
  }

  function activeIndex(p) {
    var list = options(p.panel);
    for (var i = 0; i < list.length; i++) {
      if (list[i].getAttribute('aria-selected') === 'true') return i;
    }
    return -1;
  }

  function close(p) {
    p.panel.replaceChildren();
    sync(p);
  }

  function init() {
    var p = parts();
    if (!p) return;
    p.input.setAttribute('role', 'combobox');
    p.input.setAttribute('aria-autocomplete', 'list');
    p.input.setAttribute('aria-haspopup', 'listbox');
    sync(p);

    p.input.addEventListener('keydown', function (event) {
      var current = activeIndex(p);
      var count = options(p.panel).length;
      switch (event.key) {
        case 'ArrowDown':
          if (!count) return;
          event.preventDefault();
          activate(p, current + 1);
          break;
        case 'ArrowUp':
          if (!count) return;
          event.preventDefault();
          activate(p, current < 0 ? count - 1 : current - 1);
          break;
        case 'Home':
        case 'End':
          if (current < 0) return; // otherwise they move the caret, as usual
          event.preventDefault();
          activate(p, event.key === 'Home' ? 0 : count - 1);
          break;
        case 'Enter':
          if (current < 0) return; // no option chosen: the form submits to the search page
          event.preventDefault();
          window.location.assign(options(p.panel)[current].href);
          break;
        case 'Escape':
          if (!isOpen(p.panel)) return;
          event.preventDefault();
          close(p);
          break;
      }
    });

    // htmx fires these on the input or the panel depending on the event; look at the swap's target.
    // A response that arrives after the box was emptied must not reopen the list.
    doc.addEventListener('htmx:beforeSwap', function (event) {
      if (event.detail.target === p.panel && !p.input.value.trim()) event.detail.shouldSwap = false;
    });
    doc.addEventListener('htmx:afterSwap', function (event) {
      if (event.detail.target === p.panel) sync(p);
    });

    doc.addEventListener('click', function (event) {
      if (isOpen(p.panel) && !p.input.form.contains(event.target)) close(p);
    });
  }

  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
