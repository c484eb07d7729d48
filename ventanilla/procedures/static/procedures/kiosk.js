// Kiosk mode (progressive enhancement: the server signs idle sessions out by itself).
// The resident's touches and typing count as activity and are reported to the server now and
// then (it only sees requests otherwise). VENTANILLA_KIOSK_WARNING_SECONDS before the limit a
// banner asks "¿Sigues ahí?"; at the limit the page signs out through its "Salir" form, or goes
// back to the kiosk's start screen when nobody is signed in.
(function () {
  "use strict";
  var banner = document.getElementById("kiosk-idle");
  if (!banner) { return; }
  var idle = parseInt(banner.getAttribute("data-idle"), 10) || 120;
  var warn = parseInt(banner.getAttribute("data-warning"), 10) || 30;
  var home = banner.getAttribute("data-home") || "/kiosco/";
  var ping = banner.getAttribute("data-ping") || "";
  var logoutPath = banner.getAttribute("data-logout") || "";
  var signedIn = banner.hasAttribute("data-signed-in");
  var counter = document.getElementById("kiosk-idle-seconds");
  var stay = document.getElementById("kiosk-idle-stay");
  var pingEvery = Math.max(5, Math.min(30, Math.floor(idle / 3))) * 1000;
  var last = Date.now();
  var lastPing = Date.now();
  var done = false;

  function signOut() {
    if (done) { return; }
    done = true;
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (signedIn && logoutPath && forms[i].getAttribute("action") === logoutPath) {
        var next = document.createElement("input");
        next.type = "hidden";
        next.name = "next";
        next.value = home;
        forms[i].appendChild(next);
        forms[i].submit();
        return;
      }
    }
    window.location.assign(home);
  }

  function tellServer(force) {
    if (!ping || !window.fetch) { return; }
    var now = Date.now();
    if (!force && now - lastPing < pingEvery) { return; }
    lastPing = now;
    window.fetch(ping, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.redirected) { window.location.assign(home); }
    }).catch(function () {});
  }

  function activity() {
    if (done) { return; }
    var warned = !banner.hidden;
    last = Date.now();
    banner.hidden = true;
    tellServer(warned);
  }

  function tick() {
    var left = idle - Math.floor((Date.now() - last) / 1000);
    if (left <= 0) { signOut(); return; }
    if (left <= warn) {
      if (banner.hidden && stay) { window.setTimeout(function () { stay.focus(); }, 0); }
      banner.hidden = false;
      if (counter) { counter.textContent = String(left); }
    }
  }

  ["keydown", "pointerdown", "touchstart", "input", "scroll"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  if (stay) { stay.addEventListener("click", activity); }
  // Nothing to protect on the start screen while nobody is signed in.
  if (!signedIn && window.location.pathname === home) { return; }
  window.setInterval(tick, 1000);
})();
