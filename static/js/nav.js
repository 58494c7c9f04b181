// The main menu is a <details> rendered open (usable without JavaScript). On narrow screens this
// folds it behind its "Menu" button; on wide screens it stays open and the button is hidden.
(function () {
  var menu = document.querySelector('details.nav-menu');
  if (!menu) { return; }
  var narrow = window.matchMedia('(max-width: ' + menu.dataset.collapseBelow + 'px)');
  function sync() { menu.open = !narrow.matches; }
  sync();
  narrow.addEventListener('change', sync);
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && narrow.matches && menu.open) { menu.open = false; menu.querySelector('summary').focus(); }
  });
})();
