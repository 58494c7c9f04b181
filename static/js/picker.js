// Searchable multi-picker over a <select multiple data-picker>: the chosen options as removable
// chips, and a combobox that filters the options as one types (arrows to move, Enter to choose,
// Escape to close). The <select> stays the form's field (hidden, kept in step), so the form posts
// what it always posted, and without this script the plain <select multiple> is there.
(function () {
  'use strict';

  var seq = 0;
  var LIMIT = 60;

  function optionsOf(select) {
    return Array.prototype.map.call(select.options, function (option) {
      var group = option.parentElement.tagName === 'OPTGROUP' ? option.parentElement.label : '';
      return { option: option, text: option.textContent.trim(), group: group.replace(/\s*\(.*\)$/, '') };
    });
  }

  function enhance(select) {
    if (select.hasAttribute('data-picker-ready') || select.closest('template')) { return; }
    select.setAttribute('data-picker-ready', '');
    var n = ++seq;
    var id = 'picker-' + n;
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    var name = label ? label.textContent.trim() : 'Choices';

    var box = document.createElement('div');
    box.className = 'picker';
    var chosen = document.createElement('ul');
    chosen.className = 'picker-chosen';
    chosen.id = id + '-chosen';
    chosen.setAttribute('aria-label', name + ': chosen');
    var empty = document.createElement('p');
    empty.className = 'picker-empty muted';
    empty.textContent = 'Nobody chosen yet.';
    var wrap = document.createElement('div');
    wrap.className = 'picker-search';
    var input = document.createElement('input');
    input.type = 'text';
    input.id = id + '-input';
    input.autocomplete = 'off';
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', id + '-list');
    input.setAttribute('aria-describedby', id + '-chosen');
    input.placeholder = select.getAttribute('data-placeholder') || 'Search';
    var list = document.createElement('ul');
    list.id = id + '-list';
    list.className = 'picker-list';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', name);
    list.hidden = true;
    var status = document.createElement('p');
    status.className = 'sr-only';
    status.setAttribute('aria-live', 'polite');
    wrap.appendChild(input);
    wrap.appendChild(list);
    box.appendChild(chosen);
    box.appendChild(empty);
    box.appendChild(wrap);
    box.appendChild(status);
    select.after(box);
    select.hidden = true;
    if (label) { label.htmlFor = input.id; }

    var active = -1;
    var shown = [];

    function renderChosen() {
      chosen.textContent = '';
      var any = false;
      optionsOf(select).forEach(function (o) {
        if (!o.option.selected) { return; }
        any = true;
        var li = document.createElement('li');
        li.className = 'picker-chip';
        var text = document.createElement('span');
        text.textContent = o.text;
        if (o.group) {
          var kind = document.createElement('small');
          kind.textContent = o.group;
          text.appendChild(document.createTextNode(' '));
          text.appendChild(kind);
        }
        var x = document.createElement('button');
        x.type = 'button';
        x.className = 'picker-remove';
        x.setAttribute('aria-label', 'Remove ' + o.text);
        x.textContent = '×';
        x.addEventListener('click', function () {
          o.option.selected = false;
          changed('Removed ' + o.text + '.');
          input.focus();
        });
        li.appendChild(text);
        li.appendChild(x);
        chosen.appendChild(li);
      });
      chosen.hidden = !any;
      empty.hidden = any;
    }

    function changed(message) {
      select.dispatchEvent(new Event('change', { bubbles: true }));
      renderChosen();
      if (!list.hidden) { renderList(); }
      status.textContent = message;
    }

    function renderList() {
      var q = input.value.trim().toLowerCase();
      shown = optionsOf(select).filter(function (o) {
        return !q || (o.text + ' ' + o.group).toLowerCase().indexOf(q) !== -1;
      }).slice(0, LIMIT);
      list.textContent = '';
      shown.forEach(function (o, i) {
        var li = document.createElement('li');
        li.id = id + '-opt-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', o.option.selected ? 'true' : 'false');
        li.className = 'picker-option' + (i === active ? ' active' : '');
        li.textContent = o.text;
        if (o.group) {
          var kind = document.createElement('small');
          kind.textContent = ' ' + o.group;
          li.appendChild(kind);
        }
        li.addEventListener('mousedown', function (e) { e.preventDefault(); });
        li.addEventListener('click', function () {
          toggle(i);
          input.value = '';
          input.focus();
          renderList();
        });
        list.appendChild(li);
      });
      if (!shown.length) {
        var none = document.createElement('li');
        none.setAttribute('role', 'option');
        none.setAttribute('aria-disabled', 'true');
        none.setAttribute('aria-selected', 'false');
        none.className = 'picker-none';
        none.textContent = 'No match';
        list.appendChild(none);
      }
      if (active >= 0 && shown[active]) {
        input.setAttribute('aria-activedescendant', id + '-opt-' + active);
        var el = document.getElementById(id + '-opt-' + active);
        if (el && el.scrollIntoView) { el.scrollIntoView({ block: 'nearest' }); }
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function open() {
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      renderList();
    }

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }

    function toggle(i) {
      var o = shown[i];
      if (!o) { return; }
      o.option.selected = !o.option.selected;
      active = i;
      changed((o.option.selected ? 'Added ' : 'Removed ') + o.text + '.');
    }

    input.addEventListener('focus', open);
    input.addEventListener('input', function () {
      active = -1;
      open();
      if (shown.length) { active = 0; renderList(); }
    });
    input.addEventListener('blur', function () { window.setTimeout(close, 100); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        if (list.hidden) { open(); }
        active = Math.min(active + 1, shown.length - 1);
        renderList();
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        active = Math.max(active - 1, 0);
        renderList();
      } else if (e.key === 'Enter') {
        e.preventDefault();  // never submits the form from here
        if (!list.hidden && active >= 0) {
          toggle(active);
          input.value = '';
          active = -1;
          renderList();
        }
      } else if (e.key === 'Escape') {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });

    renderChosen();
  }

  function enhanceAll(root) {
    root.querySelectorAll('select[multiple][data-picker]').forEach(enhance);
  }

  enhanceAll(document);
  document.addEventListener('rows:added', function (e) { enhanceAll(e.target); });
})();
