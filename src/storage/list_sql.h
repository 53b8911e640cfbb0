#pragma once
// ListQuery -> one parameterised SQL statement (and its COUNT), run on either backend.
// Every list endpoint goes through here: filters, sort with the id tie-break, page/offset or
// keyset (cursor) pagination, and the total. Only the column expressions written by stores
// and fixed SQL keywords reach the text; every request value is a bound parameter.
//
// The scope comes first: a ListSource is made either for one tenant (a TenantScope) or,
// explicitly, platform-wide. There is no way to build one without saying which.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "query/list_query.h"
#include "storage/count_cache.h"
#include "storage/database.h"

namespace tb::storage {

// A tenant id that the caller has been authorised for. Tenant-owned stores take one as a
// required argument, so that a query without a tenant scope cannot be written by accident.
class TenantScope {
  public:
    // Made by the tenancy resolver (and by tests); the id is trusted from here on.
    static TenantScope Of(std::string tenant_id) { return TenantScope(std::move(tenant_id)); }
    const std::string& id() const { return id_; }

  private:
    explicit TenantScope(std::string id) : id_(std::move(id)) {}
    std::string id_;
};

// What a list selects from, and the predicate that scopes it.
struct ListSource {
    std::string columns;  // the select list of one item, e.g. "u.id, u.email"
    std::string from;     // tables and joins, e.g. "memberships m JOIN users u ON …"
    std::string scope;    // "m.tenant_id = ?" or "1 = 1" (platform-wide)
    Params params;        // the parameters of `from` and `scope`, in order
    // A cheaper statement for the total when the query has no filters (e.g. a counter kept
    // beside the rows, or the count without joins that cannot change it).
    std::string unfiltered_count;
    Params unfiltered_count_params;
    // Filtered totals cached in `count_cache` (storage/count_cache.h) under the version that
    // `count_version` reads: one row, one integer that every write to the counted rows changes
    // in its own transaction. A count statement with a subquery (rule filters on other
    // tables, $elemMatch) is never cached. No cache when count_cache is null.
    CountCache* count_cache = nullptr;
    std::string count_version;
    Params count_version_params;

    // `tenant_column` = the tenant. `from_params` bind placeholders inside `from`.
    static ListSource ForTenant(const TenantScope& tenant, const std::string& tenant_column,
                                std::string columns, std::string from, Params from_params = {});
    // Every tenant's rows, or rows that belong to no tenant (platform admins, accounts).
    // `scope` may further narrow it, with its parameters after from_params.
    static ListSource Platform(std::string columns, std::string from, std::string scope = "1 = 1",
                               Params params = {});
};

struct ListStatement {
    std::string sql;
    Params params;
    std::string count_sql;  // empty when the query does not count
    Params count_params;
    size_t key_offset = 0;  // the first sort-key column of each row (the id is last)
};

ListStatement CompileList(const Dialect& dialect, const query::Resource& resource,
                          const query::ListQuery& query, const ListSource& source);

struct ListResult {
    Rows rows;  // at most per_page rows; the resource's columns only
    std::optional<int64_t> total;
    // Cursor mode: the last row's sort-key values and id when there is a next page.
    std::optional<std::vector<query::Literal>> next_keys;
};

Task<Result<ListResult>> RunList(Session& session, const Dialect& dialect,
                                 const query::Resource& resource, const query::ListQuery& query,
                                 const ListSource& source);

}  // namespace tb::storage
