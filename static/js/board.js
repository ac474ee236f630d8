/* The kanban board: drag a card to another stage (SortableJS). Optimistic: the card stays where it
   was dropped while the move is posted; if the server refuses (e.g. a lost stage without a reason),
   the card goes back where it was and the reason is shown. A lost stage asks for the reason first.
   Without JS, the deal page's stage form does the same. No inline handlers (nonce-based CSP). */
(function () {
  'use strict';
  if (window.samparkBoard) return;
  window.samparkBoard = true;

  var doc = document;

  function csrfToken() {
    try {
      var headers = JSON.parse(doc.body.getAttribute('hx-headers') || '{}');
      if (headers['X-CSRFToken']) return headers['X-CSRFToken'];
    } catch (e) { /* fall back to the cookie */ }
    var match = doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  function showMessage(text) {
    var box = doc.getElementById('board-message');
    if (!box) return;
    box.textContent = text || box.getAttribute('data-generic') || '';
    box.hidden = !text && !box.textContent;
  }

  function clearMessage() {
    var box = doc.getElementById('board-message');
    if (box) { box.textContent = ''; box.hidden = true; }
  }

  function putBack(card, fromList, oldIndex) {
    var after = fromList.children[oldIndex] || null;
    fromList.insertBefore(card, after);
  }

  function updateFigures(columns) {
    if (!columns) return;
    Object.keys(columns).forEach(function (stageId) {
      var column = doc.querySelector('.board-column[data-stage="' + stageId + '"]');
      if (!column) return;
      var count = column.querySelector('[data-count]');
      var total = column.querySelector('[data-total]');
      if (count) count.textContent = columns[stageId].count;
      if (total) total.textContent = columns[stageId].total;
    });
  }

  function sendMove(card, stageId, reason, fromList, oldIndex) {
    var board = doc.getElementById('board');
    var body = new URLSearchParams((board && board.getAttribute('data-filters')) || '');
    body.set('stage', stageId);
    body.set('lost_reason', reason || '');
    card.classList.add('is-saving');
    clearMessage();
    fetch(card.getAttribute('data-move-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrfToken(), 'Accept': 'application/json' },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    }).then(function (result) {
      card.classList.remove('is-saving');
      if (result.ok) { updateFigures(result.data.columns); return; }
      putBack(card, fromList, oldIndex);
      var errors = (result.data && result.data.errors) || {};
      var texts = [];
      Object.keys(errors).forEach(function (field) { texts = texts.concat(errors[field]); });
      showMessage(texts.join(' '));
    }).catch(function () {
      card.classList.remove('is-saving');
      putBack(card, fromList, oldIndex);
      showMessage('');
    });
  }

  function askLostReason(onDone) {
    var dialog = doc.getElementById('lost-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') { onDone(null); return; }
    var input = dialog.querySelector('textarea');
    input.value = '';
    dialog.returnValue = '';
    dialog.addEventListener('close', function handler() {
      dialog.removeEventListener('close', handler);
      var reason = input.value.trim();
      onDone(dialog.returnValue === 'ok' && reason ? reason : null);
    });
    dialog.showModal();
    input.focus();
  }

  function onEnd(event) {
    if (event.from === event.to) return; // order inside a column is by amount, not by hand
    var card = event.item;
    var fromList = event.from;
    var oldIndex = event.oldIndex;
    var column = event.to.closest('.board-column');
    var stageId = event.to.getAttribute('data-stage');
    if (column && column.hasAttribute('data-lost')) {
      askLostReason(function (reason) {
        if (reason === null) { putBack(card, fromList, oldIndex); return; }
        sendMove(card, stageId, reason, fromList, oldIndex);
      });
      return;
    }
    sendMove(card, stageId, '', fromList, oldIndex);
  }

  function init(root) {
    if (typeof window.Sortable === 'undefined') return;
    var lists = (root || doc).querySelectorAll ? (root || doc).querySelectorAll('ul.column-cards') : [];
    for (var i = 0; i < lists.length; i++) {
      if (lists[i].getAttribute('data-sortable') === '1') continue;
      lists[i].setAttribute('data-sortable', '1');
      window.Sortable.create(lists[i], {
        group: 'board', draggable: '.deal-card', filter: '.load-more', preventOnFilter: false,
        animation: 150, onEnd: onEnd
      });
    }
  }

  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', function () { init(doc); });
  } else {
    init(doc);
  }
  doc.addEventListener('htmx:load', function (event) { init(event.detail.elt.parentNode || doc); });
})();
