// Communication templates: a Copy button per rendered text (hidden until this script runs).
(function () {
  document.querySelectorAll('.copy-btn').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var t = document.getElementById(b.dataset.target);
      t.select();
      var done = navigator.clipboard ? navigator.clipboard.writeText(t.value) : Promise.resolve(document.execCommand('copy'));
      done.then(function () { b.textContent = 'Copied'; });
    });
  });
})();
