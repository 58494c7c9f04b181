// Row editors (incidents/rows.py): the Add, Remove, Up and Down buttons of a [data-rows] editor
// act in the page instead of posting. Without this script they post, and the server answers with
// the rows rearranged. Rows are renumbered after every change (names, ids, labels, the buttons'
// values and the "Level 2" numbers), so the form posts exactly what it shows.
(function () {
  'use strict';

  var live = document.createElement('div');
  live.className = 'sr-only';
  live.setAttribute('aria-live', 'polite');
  document.body.appendChild(live);

  function say(text) {
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function rowsOf(editor) {
    return Array.prototype.filter.call(editor.querySelector('.row-list').children, function (el) {
      return el.hasAttribute('data-row');
    });
  }

  var ATTRS = ['name', 'id', 'for', 'aria-describedby', 'aria-labelledby', 'aria-controls'];

  function renumber(editor) {
    var prefix = editor.getAttribute('data-rows');
    var pattern = new RegExp('(^|[_:\\s])' + prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '-(\\d+|__prefix__)(?=-|$|\\s)', 'g');
    var rows = rowsOf(editor);
    rows.forEach(function (row, i) {
      var els = [row].concat(Array.prototype.slice.call(row.querySelectorAll('*')));
      els.forEach(function (el) {
        ATTRS.forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v && v.indexOf(prefix + '-') !== -1) { el.setAttribute(attr, v.replace(pattern, '$1' + prefix + '-' + i)); }
        });
        if (el.tagName === 'BUTTON' && el.name === 'rows') { el.value = el.value.replace(pattern, '$1' + prefix + '-' + i); }
      });
      row.querySelectorAll('[data-row-number]').forEach(function (n) { n.textContent = String(i + 1); });
      row.querySelectorAll('[data-row-group]').forEach(function (g) {
        g.setAttribute('aria-label', g.getAttribute('aria-label').replace(/\s*\d*$/, ' ' + String(i + 1)));
      });
    });
    var total = editor.closest('form').querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    if (total) { total.value = String(rows.length); }
    var add = editor.querySelector('[data-row-action="add"]');
    var max = parseInt(editor.getAttribute('data-rows-max') || '1000', 10);
    if (add) { add.disabled = rows.length >= max; }
  }

  function firstField(row) {
    return row.querySelector('input:not([type=hidden]):not([hidden]), select:not([hidden]), textarea');
  }

  function add(editor) {
    var template = editor.querySelector('template[data-row-template]');
    var max = parseInt(editor.getAttribute('data-rows-max') || '1000', 10);
    if (!template || rowsOf(editor).length >= max) { return; }
    var row = template.content.firstElementChild.cloneNode(true);
    editor.querySelector('.row-list').appendChild(row);
    renumber(editor);
    row.dispatchEvent(new CustomEvent('rows:added', { bubbles: true }));
    var field = firstField(row);
    if (field) { field.focus(); }
    say('Row ' + rowsOf(editor).length + ' added.');
  }

  function remove(editor, row) {
    var rows = rowsOf(editor);
    var index = rows.indexOf(row);
    var next = rows[index + 1] || rows[index - 1];
    row.remove();
    renumber(editor);
    var focus = next ? next.querySelector('[data-row-action="remove"]') : editor.querySelector('[data-row-action="add"]');
    if (focus) { focus.focus(); }
    say('Row ' + (index + 1) + ' removed.');
  }

  function move(editor, row, button, delta) {
    var rows = rowsOf(editor);
    var index = rows.indexOf(row);
    var other = rows[index + delta];
    if (!other) { return; }
    if (delta < 0) { other.before(row); } else { other.after(row); }
    renumber(editor);
    if (getComputedStyle(button).visibility === 'hidden') {  // first row's Up, last row's Down
      button = row.querySelector('[data-row-action="' + (delta < 0 ? 'down' : 'up') + '"]') || button;
    }
    button.focus();
    say('Moved to position ' + (index + delta + 1) + ' of ' + rows.length + '.');
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-row-action]');
    if (!button) { return; }
    var editor = button.closest('[data-rows]');
    if (!editor) { return; }
    event.preventDefault();
    var action = button.getAttribute('data-row-action');
    var row = button.closest('[data-row]');
    if (action === 'add') { add(editor); }
    else if (action === 'remove' && row) { remove(editor, row); }
    else if (action === 'up' && row) { move(editor, row, button, -1); }
    else if (action === 'down' && row) { move(editor, row, button, 1); }
  });

  document.querySelectorAll('[data-rows]').forEach(renumber);
})();
