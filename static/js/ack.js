// One click for a person: the emailed acknowledge link opens a page whose form this script
// submits at once. Mail scanners that merely fetch the link (GET) acknowledge nothing.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('ack-form');
  if (form && form.dataset.autosubmit === 'true' && document.visibilityState === 'visible') { form.submit(); }
});
