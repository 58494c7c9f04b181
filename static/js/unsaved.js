// Forms marked data-unsaved: once something is typed into one (or the page came back with text
// not saved yet, data-unsaved="dirty"), leaving the page any other way than by sending that form
// asks first, so typed text is not lost by following a link or sending another form.
(function () {
  'use strict';
  var dirty = new Set();
  document.querySelectorAll('form[data-unsaved]').forEach(function (form) {
    if (form.getAttribute('data-unsaved') === 'dirty') { dirty.add(form); }
    form.addEventListener('input', function () { dirty.add(form); });
    form.addEventListener('change', function () { dirty.add(form); });
    form.addEventListener('submit', function () { dirty.delete(form); });
  });
  window.addEventListener('beforeunload', function (event) {
    if (dirty.size) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
})();
