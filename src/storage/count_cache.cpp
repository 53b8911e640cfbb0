#include "storage/count_cache.h"

#include <bit>
#include <variant>

namespace tb::storage {

std::string CountCache::KeyOf(const std::string& sql, const Params& params) {
    std::string key = sql;
    for (const Value& v : params) {
        // Typed and length-prefixed, so that no two parameter lists share a key.
        if (const auto* n = std::get_if<int64_t>(&v)) {
            key += "\x1fi" + std::to_string(*n);
        } else if (const auto* d = std::get_if<double>(&v)) {
            key += "\x1fr" + std::to_string(std::bit_cast<uint64_t>(*d));  // exact
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            key += "\x1fs" + std::to_string(s->size()) + ":" + *s;
        } else {
            key += "\x1fn";
        }
    }
    return key;
}

std::optional<int64_t> CountCache::Find(const std::string& key, int64_t version) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.version != version) return std::nullopt;
    return it->second.count;
}

void CountCache::Store(std::string key, int64_t version, int64_t count) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries && !entries_.contains(key)) entries_.clear();
    entries_[std::move(key)] = Entry{version, count};
}

size_t CountCache::size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
}

}  // namespace tb::storage
