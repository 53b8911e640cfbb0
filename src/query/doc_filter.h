#pragma once
// The document query language (API.md §5.3, §13): `q=` JSON, Mongo/RestDB style, parsed into
// a typed filter tree. No SQL here: storage/doc_sql compiles a tree through the Dialect.
//
// Semantics (the reference for both backends and for the tests' evaluator):
//  - A missing field equals null. {"f": null} matches null and missing; $ne/$nin with non-null
//    operands and $not match missing fields; $exists: false matches missing only.
//  - Comparisons ($gt…) hold within one JSON type: numbers numerically, strings by code
//    point, booleans false < true; a value of another type never matches. null cannot be
//    ordered (400).
//  - $contains: strings, ASCII letters folded (case-insensitive); $startswith: strings,
//    case-sensitive. $size: arrays of exactly that length.
//  - $regex: strings, the canonical pattern of doc_regex.h. $elemMatch: arrays with at least
//    one element matching its condition — operators on the element itself
//    ({"$gte": 80, "$lt": 90}) or a query on the element's fields ({"k": "a"}).
//  - Equality operands are scalars (null, boolean, number, string); objects and arrays are
//    reached with dotted paths.
// Errors: BAD_REQUEST with details.field "q" and details.path the dotted position in q.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace tb::query {

// A scalar operand. Numbers keep their JSON kind (integers bind as integers).
using Scalar = std::variant<std::monostate, bool, int64_t, double, std::string>;

enum class DocOp {
    kEq,
    kNe,
    kGt,
    kGte,
    kLt,
    kLte,
    kIn,
    kNin,
    kExists,
    kContains,
    kStartsWith,
    kSize,
    kRegex,      // operand: the canonical pattern (doc_regex.h)
    kElemMatch,  // children[0]: the condition on each element
    // Any string anywhere in the document (path empty) contains the operand, ASCII letters
    // folded: RestDB's `filter=` (API.md §11). Not reachable from `q`.
    kAnyTextContains,
};

struct DocFilter {
    enum class Kind { kAnd, kOr, kNot, kLeaf };
    Kind kind = Kind::kAnd;
    std::vector<DocFilter> children;  // kAnd, kOr (any number), kNot (one)
    // kLeaf: validated segments. Inside an $elemMatch a path starts with "#<n>", the element
    // of the n-th enclosing $elemMatch (1 the outermost); "#<n>" alone is the element itself.
    std::vector<std::string> path;
    DocOp op = DocOp::kEq;         // kLeaf
    std::vector<Scalar> operands;  // kLeaf: one, or the set of $in/$nin
};

struct DocFilterLimits {
    size_t max_depth = 16;  // JSON nesting of q, its outer object counting 1
    size_t max_in_values = 100;
    size_t max_leaves = 64;
    size_t max_path_depth = 8;
};

// Parses the text of `q`. An empty object matches everything (an empty kAnd).
Result<DocFilter> ParseDocFilter(std::string_view text, const DocFilterLimits& limits = {});
// The same for q already parsed (a request body's "q").
Result<DocFilter> DocFilterFromJson(const json::value& q, const DocFilterLimits& limits = {});

// RestDB's `filter=<text>`: every document with a string value, at any depth, that contains
// the text (ASCII letters folded, like $contains). BAD_REQUEST naming `field` when the text is
// empty or over 1,024 bytes.
Result<DocFilter> TextSearchFilter(std::string text, std::string_view field = "filter");

// The list filters of API.md §1.2 on document paths (`tag=x`, `n[gt]=5`, `tag[in]=a,b`),
// as one AND of filters. Values compare type-flexibly: `null` is null, `true`/`false` match
// the boolean or the same string, numeric text matches the number or the same string, any
// other text the string. Errors: BAD_REQUEST naming the parameter.
Result<DocFilter> DocFilterFromParams(
    const std::vector<std::pair<std::string, std::string>>& params,
    const DocFilterLimits& limits = {});

}  // namespace tb::query
