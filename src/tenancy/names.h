#pragma once
// Names and slugs of tenants and organizations (docs/api.md §14 "Tenants", "Organizations").

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tb::tenancy {

// A display name: 1..100 code points; VALIDATION_ERROR on `field` otherwise.
Status CheckName(const std::string& name, std::string_view field = "name");
// [a-z0-9] with inner hyphens, 1..63 characters; VALIDATION_ERROR on `slug` otherwise
// (nullopt: not given, nothing to check).
Status CheckSlug(const std::optional<std::string>& slug);
bool IsSlug(std::string_view slug);
// A slug made from a name ("Ann's Workspace" -> "ann-s-workspace"); `fallback` when nothing
// usable is left.
std::string SlugFrom(std::string_view name, std::string_view fallback = "tenant");
// The same slug with a random suffix, for when the plain one is taken ("acme-x7k2q9").
std::string SlugWithSuffix(std::string_view slug);

}  // namespace tb::tenancy
