#pragma once
// The OpenAPI 3.0.3 rendition of the 3.1 document (GET /v1/openapi-3.0.json), for the many
// tools that still read only 3.0 (Dredd 14 aborts on a 3.1 file). Derived from the same
// embedded source, so the two never drift apart.

#include "common/json.h"

namespace tb::api {

// The 3.0.3 form of a 3.1 document written with the JSON Schema features this project uses:
//   type: [T, "null"]            -> type: T, nullable: true
//   type: [T, U, "null"]         -> anyOf: [{type: T, nullable: true}, {type: U, nullable: true}]
//   oneOf/anyOf [A, {type: null}] -> allOf [A], nullable: true, and A's type beside it (3.0
//                                    reads nullable only next to a type)
//   const: v                      -> enum: [v]
//   examples: [v, ...] (schema)   -> example: v
//   exclusiveMinimum/Maximum: n   -> minimum/maximum: n, exclusiveMinimum/Maximum: true
//   $ref with siblings            -> allOf: [{$ref}] with the siblings beside it
//   info.summary, info.license.identifier, webhooks, jsonSchemaDialect -> left out (no 3.0
//   counterpart; license gets the SPDX URL instead of its identifier)
json::value DowngradeToOpenApi30(const json::value& v31);

// The 3.0.3 document of this API and its text, made once (thread-safe).
const std::string& OpenApi30Json();

}  // namespace tb::api
