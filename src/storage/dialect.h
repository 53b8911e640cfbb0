#pragma once
// Dialect: what differs between the SQL of SQLite and PostgreSQL. Stores write their SQL once,
// with `?` placeholders (the PostgreSQL driver numbers them), and ask the Dialect for the
// pieces that differ. Nothing outside storage/<backend>/ asks which database it is.

#include <string>
#include <string_view>

namespace tb::storage {

class Dialect {
  public:
    virtual ~Dialect() = default;
    // "sqlite" or "postgres": for logs and metrics only, never for branching.
    virtual std::string_view Name() const = 0;
    // A statement that serialises concurrent migrators (several nodes starting at once);
    // empty when the backend needs none.
    virtual std::string_view MigrationLockStatement() const = 0;
    // Collation that orders strings by code point (API.md §13 "Order").
    virtual std::string_view BinaryCollation() const = 0;
    // Appended to a SELECT that claims work-queue rows, so that concurrent claimers on several
    // nodes skip rows another has locked ("FOR UPDATE SKIP LOCKED"); empty where one writer
    // serialises everything anyway.
    virtual std::string_view SkipLocked() const = 0;
};

}  // namespace tb::storage
