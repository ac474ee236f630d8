/* Sampark progressive enhancement. No dependencies, no inline handlers, no eval
   (runs under a nonce-based CSP). Every page works without it. */
(function () {
  'use strict';

  var doc = document;
  var lang = (doc.documentElement.lang || '').toLowerCase().split('-')[0];
  var LABEL_COPY = lang === 'bn' ? 'কপি' : 'Copy';
  var LABEL_COPIED = lang === 'bn' ? 'কপি হয়েছে' : 'Copied';
  var COPIED_MS = 2000;

  // 1. <form data-confirm="Question?">: ask before submitting. Capture phase, so a
  //    declined submit never reaches handlers on the form itself (htmx included).
  doc.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-confirm')) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // 2. [data-copy]: add a "Copy" button right after the element.
  function isCopyButton(node) {
    return !!node && node.classList.contains('copy-btn');
  }

  function enhanceCopy() {
    var nodes = doc.querySelectorAll('[data-copy]');
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (isCopyButton(el.nextElementSibling)) continue; // already enhanced
      var button = doc.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-sm copy-btn';
      button.textContent = LABEL_COPY;
      button.setAttribute('aria-live', 'polite');
      el.insertAdjacentElement('afterend', button);
    }
  }

  function selectContents(el) {
    var selection = window.getSelection && window.getSelection();
    if (!selection) return;
    var range = doc.createRange();
    range.selectNodeContents(el);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  var timers = new WeakMap();

  doc.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('.copy-btn') : null;
    if (!button) return;
    var source = button.previousElementSibling;
    if (!source || !source.hasAttribute('data-copy')) return;
    var text = source.textContent.trim();

    var done = function () {
      button.textContent = LABEL_COPIED;
      button.setAttribute('data-state', 'copied');
      clearTimeout(timers.get(button));
      timers.set(button, setTimeout(function () {
        button.textContent = LABEL_COPY;
        button.removeAttribute('data-state');
      }, COPIED_MS));
    };
    // Without the Clipboard API (e.g. plain http), select the text for Ctrl+C instead.
    var fallback = function () { selectContents(source); };

    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  // 3. "/" focuses the global search, unless the user is typing somewhere.
  // 4b. Escape closes an open user menu.
  doc.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') {
      var open = doc.querySelector('details.user-menu[open]');
      if (open) {
        open.open = false;
        var summary = open.querySelector('summary');
        if (summary) summary.focus();
      }
      return;
    }
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.defaultPrevented) return;
    var target = event.target;
    if (target instanceof Element &&
        (target.isContentEditable || target.closest('input, textarea, select, [contenteditable]'))) return;
    var search = doc.getElementById('global-search');
    if (!search) return;
    event.preventDefault();
    search.focus();
    if (typeof search.select === 'function') search.select();
  });

  // 4. Close an open user menu when clicking outside it.
  doc.addEventListener('click', function (event) {
    var menus = doc.querySelectorAll('details.user-menu[open]');
    for (var i = 0; i < menus.length; i++) {
      if (!(event.target instanceof Node) || !menus[i].contains(event.target)) menus[i].open = false;
    }
  });

  // Run now (the script is deferred) and again whenever htmx swaps in new content.
  // These are plain DOM events, so nothing breaks when htmx is not loaded.
  function init() {
    enhanceCopy();
    if (doc.body) {
      doc.body.addEventListener('htmx:afterSwap', enhanceCopy);
      doc.body.addEventListener('htmx:oobAfterSwap', enhanceCopy);
    }
  }
  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
