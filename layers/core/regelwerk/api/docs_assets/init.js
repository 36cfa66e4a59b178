// Regelwerk's API docs: Swagger UI over this API's own openapi.json (no inline script: the page's CSP forbids it)
window.addEventListener("load", function () {
  var base = document.body.getAttribute("data-openapi");
  window.ui = SwaggerUIBundle({
    url: base,
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null,
  });
});
