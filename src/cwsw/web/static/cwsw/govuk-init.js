// Start GOV.UK Frontend's components. An external file, not inline script, so the
// Content-Security-Policy can forbid inline script altogether.
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
if (window.GOVUKFrontend) {
  window.GOVUKFrontend.initAll();
}
