// Keeps server-rendered fragments current while the page is open: every element with a
// data-refresh-url is fetched again every data-refresh-seconds (default 10) and swapped in,
// unless someone is typing in it or has opened one of its forms. Without JavaScript the
// server-rendered fragment stands (reload to update).
(function () {
  function busy(el) {
    return el.contains(document.activeElement) && document.activeElement !== document.body ||
      el.querySelector('details[open]') !== null;
  }
  function refresh(el) {
    if (document.hidden || busy(el)) return;
    fetch(el.dataset.refreshUrl, {credentials: 'same-origin', headers: {'X-Requested-With': 'fetch'}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || busy(el)) return;
        var holder = document.createElement('div');
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (fresh && fresh.id === el.id) {
          el.replaceWith(fresh);
          watch(fresh);
        }
      })
      .catch(function () { /* offline or restarting: try again next time */ });
  }
  function watch(el) {
    var seconds = parseFloat(el.dataset.refreshSeconds || '10');
    var timer = setInterval(function () {
      if (!document.body.contains(el)) { clearInterval(timer); return; }
      refresh(el);
    }, seconds * 1000);
  }
  document.querySelectorAll('[data-refresh-url]').forEach(watch);
})();
