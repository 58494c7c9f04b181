// Progressive enhancement only: show times in the reader's time zone. Without JS they read UTC.
(function () {
  "use strict";
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  } catch (e) { return; }
  document.querySelectorAll("time.js-local").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.textContent = fmt.format(d); }
  });
  var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll(".js-tz").forEach(function (el) { el.textContent = "your time zone (" + tz + ")"; });
})();
