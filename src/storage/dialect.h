#pragma once
// Dialect: what differs between the SQL of SQLite and PostgreSQL. Stores write their SQL once,
// with `?` placeholders (the PostgreSQL driver numbers them), and ask the Dialect for the
// pieces that differ. Nothing outside storage/<backend>/ asks which database it is.

#include <string>
#include <string_view>
#include <vector>

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
    // Row locks where documents have no foreign key to their collection (PostgreSQL: checking
    // one per inserted row cost as much as the insert itself). A transaction that inserts
    // documents selects the collection's row with ShareRowLock() first; one that deletes a
    // collection selects it with ExclusiveRowLock() before deleting its documents, so each
    // waits for the other and no document outlives its collection. Empty on SQLite, whose
    // foreign keys stay and whose one writer serialises both anyway.
    virtual std::string_view ShareRowLock() const = 0;
    virtual std::string_view ExclusiveRowLock() const = 0;

    // Documents (alias `d`) for the query language. `path` holds validated segments
    // ([A-Za-z_][A-Za-z0-9_]*), so a store may write it into the SQL text, after an optional
    // leading "#<n>" (an $elemMatch element); values are always parameters (`?`).
    enum class JsonKind { kMissing, kNull, kTrue, kFalse, kNumber, kString, kArray };
    using DocPath = std::vector<std::string>;
    // A condition that is true or false (never NULL): the value at `path` is of this kind.
    virtual std::string DocIs(const DocPath& path, JsonKind kind) const = 0;
    // `<value> <op> ?` for a number / a string (code point order) at `path`; meaningful where
    // DocIs(kNumber / kString) holds.
    virtual std::string DocNumberCompare(const DocPath& path, std::string_view op) const = 0;
    virtual std::string DocTextCompare(const DocPath& path, std::string_view op) const = 0;
    // The string at `path` contains ? with ASCII letters folded / starts with ?.
    virtual std::string DocTextContains(const DocPath& path) const = 0;
    virtual std::string DocTextStartsWith(const DocPath& path) const = 0;
    // Some string anywhere in the document (object members and array elements at any depth,
    // not the top-level system fields `_…`) contains ? with ASCII letters folded (RestDB's
    // `filter=`; no index serves it).
    virtual std::string DocAnyTextContains() const = 0;
    // The array at `path` has ? elements.
    virtual std::string DocArrayLength(const DocPath& path) const = 0;
    // The string at `path` matches the canonical pattern ? (query/doc_regex.h).
    virtual std::string DocTextRegex(const DocPath& path) const = 0;
    // `path` is an array with an element for which `condition` holds; inside `condition`,
    // paths starting with "#<level>" name that element (query::DocFilter).
    virtual std::string DocElemMatch(const DocPath& path, int level,
                                     const std::string& condition) const = 0;
    // The three key columns that order the values at `path` (query::SortKey): the rank of its
    // type (0 missing or null, 1 number, 2 string, 3 false, 4 true, 5 object, 6 array: API.md
    // §13 "Order"), the number (0 unless a number) and the string ('' unless a string;
    // compared under BinaryCollation()). Never NULL, so that an equality on all three is a
    // constant prefix to the planner and an index on them also serves the sort that follows.
    // Collection indexes use the same text, so the planner matches them.
    struct DocSortColumns {
        std::string rank, number, text;
    };
    virtual DocSortColumns DocSortKey(const DocPath& path) const = 0;
    // The same columns over the bare `documents` table, for CREATE INDEX.
    virtual DocSortColumns DocIndexKey(const DocPath& path) const = 0;
    // Index DDL: the keyword that builds an index without blocking writers ("CONCURRENTLY"; empty
    // where building takes the one write lock and readers go on anyway, as SQLite's WAL).
    virtual std::string_view IndexConcurrently() const = 0;
    // SELECT of the names of the indexes on `documents` (one text column).
    virtual std::string_view DocumentIndexNames() const = 0;
};

}  // namespace tb::storage
