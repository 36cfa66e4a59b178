// Regelwerk console: the little script the pages use. Everything works without it; htmx (vendored beside it)
// makes switches and buttons answer without a full page load. No inline script anywhere: the CSP forbids it.
"use strict";

// every htmx request carries the session's CSRF token, as every form does in its hidden field
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
