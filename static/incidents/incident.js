// The incident page's header links ("Post update", "Page someone") jump to their panel: open the
// panel's first collapsed form and put the cursor in it, so the jump is one tap.
(function () {
  function openTarget() {
    var id = window.location.hash.slice(1);
    var target = id && document.getElementById(id);
    if (!target) return;
    var details = target.querySelector("details");
    if (details) details.open = true;
    var field = target.querySelector("textarea, select, input:not([type=hidden])");
    if (field) field.focus({ preventScroll: true });
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("DOMContentLoaded", openTarget);
})();
