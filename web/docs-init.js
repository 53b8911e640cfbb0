// Starts Swagger UI on /docs (a file of its own, not an inline script: the page's
// Content-Security-Policy runs scripts from this server only). Served by the binary: the
// document it was built with, tried against this same server.
window.ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: true,
  filter: true, // the search box over operations
  persistAuthorization: true,
});
