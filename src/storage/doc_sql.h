#pragma once
// Compiles a document filter (query/doc_filter.h) into one SQL condition over documents
// aliased `d`, through the Dialect, with every operand a parameter.

#include <optional>
#include <string>
#include <vector>

#include "query/doc_filter.h"
#include "storage/dialect.h"
#include "storage/value.h"

namespace tb::storage {

// The condition, its parameters appended to `params` in order.
std::string CompileDocFilter(const Dialect& dialect, const query::DocFilter& filter,
                             Params& params);

// `d.collection_id = '<id>'` with the id written into the text: a partial index (one per
// collection) is only used by a statement whose condition names its collection literally.
// The id is a UUID this server made; anything else is refused (nullopt).
std::optional<std::string> CollectionTerm(const std::string& collection_id);

// A collection index: partial (WHERE collection_id = '<id>'), on tenant_id, then the sort-key
// columns of each path (Dialect::DocIndexKey) in the key's direction, written exactly as
// list_sql orders and doc_sql compares them, then `id` (the tie-break) unless unique.
struct DocIndexKey {
    Dialect::DocPath path;
    bool descending = false;
};
std::string CreateDocIndex(const Dialect& dialect, const std::string& name,
                           const std::string& collection_id, const std::vector<DocIndexKey>& keys,
                           bool unique);
std::string DropDocIndex(const Dialect& dialect, const std::string& name);

}  // namespace tb::storage
