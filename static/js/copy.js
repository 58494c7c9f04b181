// A Copy button per copyable text (communication templates, a new integration key), hidden
// until this script runs. The target is a form field (its value) or any element (its text).
(function () {
  document.querySelectorAll('.copy-btn').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var t = document.getElementById(b.dataset.target);
      var text;
      if ('value' in t && typeof t.select === 'function') {
        t.select();
        text = t.value;
      } else {
        var range = document.createRange();
        range.selectNodeContents(t);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        text = t.textContent.trim();
      }
      var done = navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.resolve(document.execCommand('copy'));
      done.then(function () { b.textContent = 'Copied'; }, function () { b.textContent = 'Select and copy it by hand'; });
    });
  });
})();
