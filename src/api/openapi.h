#pragma once
// The OpenAPI 3.1 document of this API (docs/openapi.yaml, embedded at build time), as JSON.
// docs/architecture.md says why the document is written by hand and checked against the
// route table rather than generated from it.

#include <string>

#include "common/json.h"
#include "common/result.h"

namespace tb::api {

// The document, converted once (thread-safe) from the embedded YAML.
const json::value& OpenApiDocument();
// Its serialised form, as served at GET /v1/openapi.json.
const std::string& OpenApiJson();
// The document of the compatibility dialects (docs/openapi-compat.yaml), and its serialised
// form, as served at GET /compat/openapi.json.
const json::value& CompatOpenApiDocument();
const std::string& CompatOpenApiJson();
// YAML text -> JSON (exposed for tests). Plain scalars become booleans, null, integers or
// numbers when they read as such (YAML 1.2 core schema); quoted ones stay strings.
Result<json::value> YamlToJson(std::string_view yaml);

}  // namespace tb::api
