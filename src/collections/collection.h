#pragma once
// A collection's definition (API.md §5.1): its name, rules, declared indexes and schema, as
// checked from a request and as stored.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace tb::collections {

// Who may do an operation on a collection's documents (tenant admins always may).
enum class Rule { kPublic, kMember, kOwner, kOrg, kAdmin };
enum class Operation { kList, kRead, kCreate, kUpdate, kDelete };
inline constexpr std::array<std::string_view, 5> kOperationNames = {"list", "read", "create",
                                                                    "update", "delete"};
std::string_view RuleName(Rule rule);

struct Rules {
    std::array<Rule, 5> by_operation = {Rule::kMember, Rule::kMember, Rule::kMember, Rule::kMember,
                                        Rule::kMember};
    Rule of(Operation op) const { return by_operation[static_cast<size_t>(op)]; }
};

struct IndexKey {
    std::string path;  // dotted path into the document
    bool descending = false;
};

struct IndexSpec {
    std::vector<IndexKey> fields;
    bool unique = false;
};

struct Collection {
    std::string id, name;
    std::optional<json::value> schema;
    std::vector<IndexSpec> indexes;
    Rules rules;
    int64_t document_count = 0;
    int64_t created_at = 0, updated_at = 0;
};

// [a-z][a-z0-9_-]{0,62}; VALIDATION_ERROR on "name".
Status CheckCollectionName(std::string_view name);
// A document field path: `[A-Za-z_][A-Za-z0-9_]*` segments joined by dots, at most `depth`.
bool IsFieldPath(std::string_view path, size_t max_depth = 8);

// Request shapes -> checked values; VALIDATION_ERROR naming the failing path
// (`rules.read`, `indexes.0.fields.1`).
Result<Rules> ParseRules(const json::value& value);
Result<std::vector<IndexSpec>> ParseIndexes(const json::value& value);

// Stored forms (the same JSON the API shows).
json::object RulesJson(const Rules& rules);
json::array IndexesJson(const std::vector<IndexSpec>& indexes);

}  // namespace tb::collections
