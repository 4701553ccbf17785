// Warden dashboard: the one script (served from this origin; the CSP allows no other).
// Everything works without it; it only keeps the decision list live.
(function () {
  "use strict";
  // A table body marked data-live="URL" is refreshed from that fragment every 5 seconds
  // while the tab is visible.
  var body = document.querySelector("[data-live]");
  if (!body) return;
  var url = body.getAttribute("data-live");
  var badge = document.querySelector(".live");
  if (badge) badge.classList.add("on");
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error(String(r.status));
        return r.text();
      })
      .then(function (html) {
        body.innerHTML = html;
        if (badge) badge.classList.remove("stale");
      })
      .catch(function () {
        if (badge) badge.classList.add("stale");
      });
  }
  setInterval(refresh, 5000);
})();
