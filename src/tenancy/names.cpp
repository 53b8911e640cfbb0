#include "tenancy/names.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/strings.h"

namespace tb::tenancy {

Status CheckName(const std::string& name, std::string_view field) {
    size_t n = Utf8Length(name);
    if (n == 0 || n > 100)
        return Error::Validation(std::string(field),
                                 std::string(field) + " must be 1 to 100 characters");
    return {};
}

Status CheckSlug(const std::optional<std::string>& slug) {
    if (slug && !IsSlug(*slug))
        return Error::Validation("slug",
                                 "slug must be 1-63 lower-case letters, digits and inner hyphens");
    return {};
}

bool IsSlug(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::string SlugFrom(std::string_view name, std::string_view fallback) {
    std::string out;
    for (char c : name) {
        char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
        if (ok) {
            out += l;
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
        if (out.size() >= 48) break;
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? std::string(fallback) : out;
}

std::string SlugWithSuffix(std::string_view slug) {
    std::string suffix;
    while (suffix.size() < 6) {
        for (char c : ToLower(RandomToken(8)))
            if (std::isalnum(static_cast<unsigned char>(c)) && suffix.size() < 6) suffix += c;
    }
    return std::string(slug.substr(0, 48)) + "-" + suffix;
}

}  // namespace tb::tenancy
