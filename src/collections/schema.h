#pragma once
// A collection's JSON Schema (API.md §5.1): the draft 2020-12 subset type, properties,
// required, enum, minimum, maximum, minLength, maxLength, pattern (RE2), items,
// additionalProperties and format (email, date-time); title, description, default, examples
// and $schema are accepted as annotations. Compiled once per collection version.
//
// A document is validated without its system fields (names starting with `_`): the schema
// describes the client's data.

#include <memory>

#include "common/json.h"
#include "common/result.h"

namespace tb::collections {

class Schema {
  public:
    struct Node;
    // VALIDATION_ERROR on "schema.<path>" for an unknown keyword or a bad value.
    static Result<std::shared_ptr<const Schema>> Compile(const json::value& schema);
    // VALIDATION_ERROR whose details.field is the failing path (`address.city`, `items.2`).
    Status Validate(const json::object& document) const;

    ~Schema();

  private:
    std::unique_ptr<Node> root_;
};

}  // namespace tb::collections
