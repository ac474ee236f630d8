/* Support desk pages: a ticking SLA countdown, "choose all" in the inbox, the reply box's mode.
   No inline handlers (strict CSP); the server renders every text first, so the pages work without this. */
(function () {
  'use strict';

  var doc = document;
  var lang = (doc.documentElement.lang || '').toLowerCase().split('-')[0];
  var BN = '০১২৩৪৫৬৭৮৯';
  var WORDS = lang === 'bn'
    ? {due: 'বাকি %s', overdue: '%s দেরি', d: 'দি', h: 'ঘ', m: 'মি'}
    : {due: 'due in %s', overdue: 'overdue by %s', d: 'd', h: 'h', m: 'm'};

  function digits(text) {
    return lang === 'bn' ? String(text).replace(/[0-9]/g, function (d) { return BN[+d]; }) : String(text);
  }

  function span(seconds) {
    var minutes = Math.max(1, Math.floor(Math.abs(seconds) / 60));
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return digits(days + WORDS.d + ' ' + hours + WORDS.h);
    if (hours) return digits(hours + WORDS.h + ' ' + mins + WORDS.m);
    return digits(mins + WORDS.m);
  }

  // 1. [data-due]: "due in 1h 20m" / "overdue by 5m", recomputed every minute from the due time.
  function tick() {
    var nodes = doc.querySelectorAll('.sla[data-due]');
    var now = Date.now();
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var due = Date.parse(el.getAttribute('data-due'));
      if (isNaN(due)) continue;
      var left = (due - now) / 1000;
      var label = el.querySelector('time') || el;
      label.textContent = (left > 0 ? WORDS.due : WORDS.overdue).replace('%s', span(left));
      if (left <= 0) {
        el.classList.remove('sla-ok', 'sla-at_risk');
        el.classList.add('sla-breached');
      }
    }
  }
  setInterval(tick, 60 * 1000);
  doc.addEventListener('htmx:afterSettle', tick);

  // 2. [data-check-all="ids"]: tick or untick every row's box.
  doc.addEventListener('change', function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (box.hasAttribute('data-check-all')) {
      var rows = doc.querySelectorAll('input[type=checkbox][name="' + box.getAttribute('data-check-all') + '"]');
      for (var i = 0; i < rows.length; i++) rows[i].checked = box.checked;
    }
    // 3. The reply box: an internal note looks and says different from a reply to the customer.
    if (box.id === 'reply_internal') {
      var form = box.closest('form');
      if (!form) return;
      form.classList.toggle('is-note', box.checked);
      var button = form.querySelector('button[data-label-reply]');
      if (button) button.textContent = button.getAttribute(box.checked ? 'data-label-note' : 'data-label-reply');
    }
  });
})();
