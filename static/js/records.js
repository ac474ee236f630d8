/* Contact and company pages, and the top bar's quick-create dialog. Progressive: every form
   also works without it. No inline handlers, no eval (runs under the nonce-based CSP). */
(function () {
  'use strict';
  if (window.samparkRecords) return; // loaded once
  window.samparkRecords = true;

  var doc = document;

  // 1. Forms answer 400 with the form and its errors; htmx does not swap error responses by
  //    default, so let it swap those (the server decides the target with HX-Retarget if needed).
  doc.addEventListener('htmx:beforeSwap', function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // 2. The quick-create <dialog>: open it as a modal when htmx puts it into #dialog.
  function openDialogs(root) {
    var dialogs = (root || doc).querySelectorAll('dialog.quick-dialog');
    for (var i = 0; i < dialogs.length; i++) {
      var dialog = dialogs[i];
      if (typeof dialog.showModal !== 'function') continue; // very old browser: it stays open inline
      try {
        // It arrives with `open` (so it shows without JS); dropping the attribute, unlike close(), fires no
        // "close" event, which would take the dialog out of the page (see below).
        if (dialog.open && !dialog.matches(':modal')) dialog.removeAttribute('open');
        if (!dialog.open) dialog.showModal();
      } catch (e) { /* already modal */ }
      var first = dialog.querySelector('input:not([type="hidden"]), select, textarea');
      if (first) first.focus();
    }
    var menus = doc.querySelectorAll('details.quick-create[open]');
    for (var j = 0; j < menus.length; j++) menus[j].open = false;
  }

  function closeDialog(dialog) {
    if (!dialog) return;
    if (dialog.open) dialog.close();
  }

  doc.addEventListener('htmx:afterSwap', function (event) {
    var target = event.detail.target;
    if (target && target.id === 'dialog') openDialogs(target);
  });

  // A closed dialog leaves #dialog, so the next "+" fetches a fresh form.
  doc.addEventListener('close', function (event) {
    var dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.classList.contains('quick-dialog') && dialog.parentNode) {
      dialog.parentNode.removeChild(dialog);
    }
  }, true);

  doc.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('[data-dialog-close]') : null;
    if (button) {
      event.preventDefault();
      closeDialog(button.closest('dialog'));
      return;
    }
    // 3. "+ Add another" email or phone: copy the last row, emptied.
    var add = event.target instanceof Element ? event.target.closest('[data-add-row]') : null;
    if (add) {
      var field = add.closest('[data-list-field]');
      var rows = field ? field.querySelectorAll('.list-row') : [];
      if (!rows.length) return;
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var inputs = copy.querySelectorAll('input');
      for (var i = 0; i < inputs.length; i++) {
        inputs[i].value = '';
        var label = inputs[i].getAttribute('aria-label') || '';
        inputs[i].setAttribute('aria-label', label.replace(/\d+$/, String(rows.length + 1)));
      }
      last.insertAdjacentElement('afterend', copy);
      var input = copy.querySelector('input');
      if (input) input.focus();
      return;
    }
    // 4. Tabs (Timeline / History): mark the chosen one.
    var tab = event.target instanceof Element ? event.target.closest('.tabs .tab') : null;
    if (tab) {
      var tabs = tab.parentNode.querySelectorAll('.tab');
      for (var t = 0; t < tabs.length; t++) {
        tabs[t].classList.toggle('active', tabs[t] === tab);
        if (tabs[t] === tab) tabs[t].setAttribute('aria-current', 'page'); else tabs[t].removeAttribute('aria-current');
      }
    }
  });

  // "Add another" buttons are hidden until this script can make them work.
  function revealAddButtons(root) {
    var buttons = (root || doc).querySelectorAll('[data-add-row][hidden]');
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  // 5. After an inline save, an "Edit" panel's form is gone: nothing to do. After a failed one,
  //    focus the first field with an error.
  doc.addEventListener('htmx:afterSwap', function (event) {
    revealAddButtons(event.detail.target);
    if (event.detail.xhr && event.detail.xhr.status === 400) {
      var scope = doc.getElementById(event.detail.target.id) || event.detail.target;
      var bad = scope && scope.querySelector && scope.querySelector('.has-error input, .has-error select, .has-error textarea');
      if (bad) bad.focus();
    }
  });

  function init() {
    revealAddButtons(doc);
    openDialogs(doc);
  }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
