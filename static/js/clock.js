// Counts acknowledge clocks down live; without JavaScript the server-rendered value stands.
(function () {
  function tick() {
    document.querySelectorAll('[data-due]').forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - Date.now()) / 1000);
      var a = Math.abs(left), m = Math.floor(a / 60), s = ('0' + (a % 60)).slice(-2);
      el.textContent = left < 0 ? 'Overdue by ' + m + 'm ' + s + 's' : m + 'm ' + s + 's left';
      el.classList.toggle('clock-breached', left < 0);
    });
  }
  setInterval(tick, 1000);
})();
