#pragma once
// The values that cross the storage boundary: bound parameters and result columns.
// Conventions shared by both backends: timestamps are BIGINT Unix milliseconds; flags are
// INTEGER 0/1; ids are TEXT UUIDs; JSON is TEXT (SQLite) or JSONB (PostgreSQL).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tb::storage {

// Bytes bound as a BLOB (SQLite) or BYTEA (PostgreSQL, sent in binary): file contents. Read
// back, such a column is a std::string of the same bytes.
struct Blob {
    std::string bytes;
    bool operator==(const Blob&) const = default;
};

using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;
using Params = std::vector<Value>;

inline constexpr std::monostate kNull{};

// Columns are positional: each query names its own in its SELECT list.
struct Rows {
    std::vector<std::vector<Value>> rows;

    size_t size() const { return rows.size(); }
    bool empty() const { return rows.empty(); }
};

inline Value ToValue(std::monostate) { return {}; }
inline Value ToValue(bool b) { return int64_t{b ? 1 : 0}; }
inline Value ToValue(int v) { return int64_t{v}; }
inline Value ToValue(int64_t v) { return v; }
inline Value ToValue(double v) { return v; }
inline Value ToValue(std::string v) { return v; }
inline Value ToValue(std::string_view v) { return std::string(v); }
inline Value ToValue(const char* v) { return std::string(v); }
inline Value ToValue(Blob v) { return v; }
inline Value ToValue(Value v) { return v; }

// Bind(a, b, …): the parameters of a statement. Use it instead of a braced list: GCC 12
// miscompiles braced initializer lists inside co_await expressions ("array used as
// initializer").
template <class... Args>
Params Bind(Args&&... args) {
    Params p;
    p.reserve(sizeof...(Args));
    (p.push_back(ToValue(std::forward<Args>(args))), ...);
    return p;
}

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }
// Column accessors; a NULL or differently-typed value gives the fallback.
int64_t AsInt(const Value& v, int64_t fallback = 0);
double AsDouble(const Value& v, double fallback = 0);
std::string AsText(const Value& v, std::string fallback = {});
// AsText that moves a text value out (the value is left empty): for large columns read once.
std::string TakeText(Value& v);

}  // namespace tb::storage
