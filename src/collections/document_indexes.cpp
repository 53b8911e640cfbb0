#include "collections/document_indexes.h"

#include <algorithm>

#include "common/encoding.h"
#include "storage/doc_sql.h"

namespace tb::collections {

namespace {

std::string Prefix(const std::string& collection_id) {
    std::string hex;
    for (char c : collection_id)
        if (c != '-') hex += c;
    return "dx_" + hex + "_";
}

std::vector<storage::DocIndexKey> Keys(const IndexSpec& spec) {
    std::vector<storage::DocIndexKey> keys;
    for (const auto& f : spec.fields) {
        storage::DocIndexKey k;
        k.descending = f.descending;
        for (size_t start = 0;;) {
            size_t dot = f.path.find('.', start);
            k.path.push_back(f.path.substr(start, dot - start));
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        keys.push_back(std::move(k));
    }
    return keys;
}

}  // namespace

std::string DocumentIndexes::Name(const std::string& collection_id, const IndexSpec& spec) {
    std::string canonical = spec.unique ? "u" : "i";
    for (const auto& f : spec.fields) canonical += (f.descending ? "|-" : "|+") + f.path;
    return Prefix(collection_id) + Sha256Hex(canonical).substr(0, 12);
}

Task<Result<std::vector<std::string>>> DocumentIndexes::Existing(const std::string& collection_id) {
    auto rows = co_await db_.Query(db_.dialect().DocumentIndexNames());
    if (!rows.ok()) co_return std::move(rows).error();
    std::string prefix = Prefix(collection_id);
    std::vector<std::string> out;
    for (const auto& r : rows->rows) {
        std::string name = storage::AsText(r[0]);
        if (name.starts_with(prefix)) out.push_back(std::move(name));
    }
    co_return out;
}

Task<Result<std::vector<std::string>>> DocumentIndexes::CreateMissing(
    const std::string& collection_id, const std::vector<IndexSpec>& specs) {
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await Existing(collection_id));
    std::vector<std::string> made;
    for (size_t i = 0; i < specs.size(); ++i) {
        std::string name = Name(collection_id, specs[i]);
        if (std::find(existing.begin(), existing.end(), name) != existing.end()) continue;
        if (std::find(made.begin(), made.end(), name) != made.end()) continue;
        std::string ddl = storage::CreateDocIndex(db_.dialect(), name, collection_id,
                                                  Keys(specs[i]), specs[i].unique);
        Status st = co_await db_.ExecuteScript(ddl);
        if (!st.ok()) {
            made.push_back(name);  // a failed CONCURRENTLY build leaves an invalid index
            (void)co_await Drop(made);
            Error e = std::move(st).error();
            if (e.code != ErrorCode::kConflict) co_return e;
            co_return Error::Conflict(
                "Documents of this collection already repeat a value this unique index forbids",
                "indexes." + std::to_string(i));
        }
        made.push_back(std::move(name));
    }
    co_return made;
}

Task<Status> DocumentIndexes::DropOthers(const std::string& collection_id,
                                         const std::vector<IndexSpec>& specs) {
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await Existing(collection_id));
    std::vector<std::string> doomed;
    for (auto& name : existing) {
        bool declared = std::any_of(specs.begin(), specs.end(), [&](const IndexSpec& s) {
            return Name(collection_id, s) == name;
        });
        if (!declared) doomed.push_back(std::move(name));
    }
    co_return co_await Drop(doomed);
}

Task<Status> DocumentIndexes::Drop(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        TB_CO_RETURN_IF_ERROR(
            co_await db_.ExecuteScript(storage::DropDocIndex(db_.dialect(), name)));
    }
    co_return Status{};
}

}  // namespace tb::collections
