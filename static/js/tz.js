// Tells the portal the browser's time zone (the `tz` cookie), used when a person has not chosen
// one in their profile. Without JavaScript, times are shown in the portal's zone, named.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var current = document.cookie.split('; ').filter(function (c) { return c.indexOf('tz=') === 0; })[0];
  if (current !== 'tz=' + zone) {
    document.cookie = 'tz=' + zone + '; path=/; max-age=31536000; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
  }
})();
