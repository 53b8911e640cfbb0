#include "storage/value.h"

namespace tb::storage {

int64_t AsInt(const Value& v, int64_t fallback) {
    if (auto* i = std::get_if<int64_t>(&v)) return *i;
    if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
    return fallback;
}

double AsDouble(const Value& v, double fallback) {
    if (auto* d = std::get_if<double>(&v)) return *d;
    if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    return fallback;
}

std::string AsText(const Value& v, std::string fallback) {
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (auto* b = std::get_if<Blob>(&v)) return b->bytes;
    return fallback;
}

std::string TakeText(Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) return std::move(*s);
    return AsText(v);
}

}  // namespace tb::storage
