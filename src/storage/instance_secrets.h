#pragma once
// Instance-wide secrets in the database (table instance_secrets), so that every node of a
// cluster holds the same ones: e.g. the key that signs list cursors.

#include <string>

#include "storage/database.h"

namespace tb::storage {

// The secret called `name`, created (32 random bytes, base64url) on first use. Concurrent
// first uses on several nodes agree: the first insert wins, everyone reads it back.
Task<Result<std::string>> InstanceSecret(Database& db, const std::string& name);

}  // namespace tb::storage
