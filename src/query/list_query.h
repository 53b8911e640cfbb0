#pragma once
// The one list-query mechanism (API.md §1.2): the query string of any list endpoint becomes a
// typed ListQuery, validated against the fields the resource declares. There is no SQL here:
// storage/list_sql compiles a ListQuery into one parameterised statement, so no name,
// operator or value from a request ever reaches SQL text.
//
// Everything a client can get wrong answers BAD_REQUEST with details.field naming the
// parameter: unknown fields or operators, values of the wrong type, too many conditions,
// a tampered or mismatched cursor.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace tb::query {

// How a field's values are typed, compared and ordered.
enum class Type {
    kId,    // UUIDv7 text: ordered as stored (hex and hyphens order alike in every collation)
    kText,  // ordered by code point (the Dialect's binary collation)
    kInt,
    kBool,  // stored as 0/1
    kTime,  // stored as Unix milliseconds; RFC 3339 in requests
};

struct Field {
    std::string name;    // as the API names it
    std::string column;  // the SQL expression: written by a store, never taken from a request
    Type type = Type::kText;
    bool nullable = false;
};

// What a list endpoint declares about itself.
struct Resource {
    std::string name;       // binds cursors to the resource they came from
    std::string id_column;  // the unique tie-break, ascending (API.md §13 "Order")
    std::vector<Field> fields;
    // Parameters the endpoint reads itself (e.g. `purge`), passed through in ListQuery::extra.
    std::vector<std::string> extra_params;
    // `h` (RestDB's hints, API.md §5.3): a JSON object of $orderby, $max, $skip and $fields,
    // the same as sort, per_page, an offset and fields (given once, one way or the other).
    bool hints = false;
    // `fields` may name any path of `[A-Za-z_][A-Za-z0-9_]*` segments joined by dots, at most
    // 8 deep (documents: API.md §1.2), not only the declared fields.
    bool open_projection = false;
    // A filter parameter that names no declared field is a document path filter
    // (`tag=x`, `address.city[startswith]=O`), kept raw in ListQuery::path_filters for the
    // document query language (doc_filter.h) to type.
    bool open_filters = false;
    // Other names of declared fields, {alias, field name}: `active` for `is_active`, as the
    // Nanostack seed's own example filters users (`?role=admin&active=true`). An alias
    // filters, sorts and projects as the field it names.
    std::vector<std::pair<std::string, std::string>> aliases;

    // The declared field of that name or alias; null when there is none.
    const Field* Find(std::string_view name) const;
};

// A typed value: null, an integer (ints, booleans as 0/1, times as ms), a real (only in the
// cursor of a sort on a document path) or text.
using Literal = std::variant<std::monostate, int64_t, double, std::string>;

enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kNin, kContains, kStartsWith, kExists };

struct Condition {
    const Field* field = nullptr;
    Op op = Op::kEq;
    std::vector<Literal> values;  // one, or several for in/nin; exists: int 0/1
};

// A declared field, or (resources with open_filters) a document path, which orders values of
// every JSON type: missing and null, numbers, strings, false, true, objects, arrays (API.md §13)
// (storage/list_sql compiles it to three key columns: the type's rank, the number, the text).
struct SortKey {
    const Field* field = nullptr;
    std::vector<std::string> path;  // when field is null: validated segments
    bool descending = false;

    std::string Name() const;  // the field's name or the dotted path
    // Cursor values this key takes (the id tie-break adds one more to a cursor).
    size_t Width() const { return field ? 1 : 3; }
};

struct Limits {
    size_t max_conditions = 32;
    size_t max_in_values = 100;
    size_t max_value_bytes = 1024;
    size_t max_sort_keys = 5;
    int64_t max_per_page = 100;
    int64_t max_page = 1'000'000'000;
    // The rows a page may skip (`(page - 1) * per_page`, or h's `$skip`): a deep offset makes
    // the database read and throw away every row before it (issue #29: `page=999` over 100,000
    // documents took 18 s). Past it, 400 pointing to cursors, which cost the same at any depth.
    int64_t max_offset = 10'000;
};

struct ListQuery {
    int64_t page = 1;
    int64_t per_page = 20;
    std::optional<int64_t> skip;  // h's $skip: rows skipped instead of whole pages
    bool cursor_mode = false;     // `after` was given (empty: the first page)
    std::vector<Literal> after;   // decoded cursor: the sort-key values, then the id
    bool count = true;            // compute meta.total (default: on in page mode, off with after)
    std::vector<Condition> conditions;
    std::vector<SortKey> sort;        // without the id tie-break, which is implied
    std::vector<std::string> fields;  // projection; empty: every field
    // Resources with open_filters: (parameter, value) of filters on undeclared paths.
    std::vector<std::pair<std::string, std::string>> path_filters;
    std::map<std::string, std::string, std::less<>> extra;
    // RestDB's `filter=` (set by that dialect only, API.md §11): a text some string of the
    // document contains (query::TextSearchFilter).
    std::optional<std::string> text_search;

    // The sort and filters in a canonical text: a cursor is valid only for the same one.
    std::string Fingerprint(const Resource& resource) const;
};

// Opaque, tamper-evident cursors: the last row's sort-key values, bound to the query's
// fingerprint and signed with an instance secret (shared by every node).
class CursorCodec {
  public:
    explicit CursorCodec(std::string secret) : secret_(std::move(secret)) {}
    std::string Encode(const Resource& resource, const ListQuery& query,
                       const std::vector<Literal>& keys) const;
    // BAD_REQUEST (field "after") for anything but a cursor this instance made for this query.
    Result<std::vector<Literal>> Decode(std::string_view cursor, const Resource& resource,
                                        const ListQuery& query) const;

  private:
    std::string secret_;
};

// Parses a raw query string (without '?').
Result<ListQuery> ParseList(std::string_view query_string, const Resource& resource,
                            const CursorCodec& cursors, const Limits& limits = {});

}  // namespace tb::query
