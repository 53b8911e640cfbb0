#include "app/tenant_transfer.h"

#include <algorithm>
#include <map>
#include <set>

#include "collections/collection.h"
#include "collections/document_indexes.h"
#include "common/encoding.h"
#include "common/json.h"

namespace tb::app {

namespace {

constexpr std::string_view kFormat = "tenantbase-tenant";
constexpr int64_t kVersion = 1;
constexpr size_t kContentPiece = size_t{192} * 1024;  // raw bytes per content line

// The tables a tenant moves with, in the order they are written and inserted (references
// first), each with its columns and the statement that reads the tenant's rows.
constexpr size_t kNoTenantColumn = static_cast<size_t>(-1);
struct Table {
    std::string_view name;
    std::string_view columns;
    std::string_view select;
    // The column that names the row's tenant; none for user accounts (a member's account is
    // the tenant's through a membership).
    size_t tenant_column = kNoTenantColumn;
};
constexpr Table kTables[] = {
    {"tenants",
     "id, name, slug, plan, status, settings, member_count, created_at, updated_at, file_bytes",
     "SELECT id, name, slug, plan, status, settings, member_count, created_at, updated_at, "
     "file_bytes FROM tenants WHERE id = ?",
     0},
    {"users",
     "id, email, name, password_hash, email_verified, is_active, is_admin, created_at, "
     "updated_at, last_login_at",
     "SELECT u.id, u.email, u.name, u.password_hash, u.email_verified, u.is_active, u.is_admin, "
     "u.created_at, u.updated_at, u.last_login_at FROM users u JOIN memberships m ON m.user_id "
     "= u.id WHERE m.tenant_id = ? ORDER BY u.id"},
    {"memberships", "tenant_id, user_id, role, joined_at, user_created_at",
     "SELECT tenant_id, user_id, role, joined_at, user_created_at FROM memberships WHERE "
     "tenant_id = ? ORDER BY user_id",
     0},
    {"organizations",
     "id, tenant_id, name, slug, description, member_count, created_at, updated_at",
     "SELECT id, tenant_id, name, slug, description, member_count, created_at, updated_at FROM "
     "organizations WHERE tenant_id = ? ORDER BY id",
     1},
    {"organization_members", "tenant_id, organization_id, user_id, role, joined_at",
     "SELECT tenant_id, organization_id, user_id, role, joined_at FROM organization_members "
     "WHERE tenant_id = ? ORDER BY organization_id, user_id",
     0},
    {"collections", "tenant_id, id, name, schema, indexes, rules, created_at, updated_at",
     "SELECT tenant_id, id, name, schema, indexes, rules, created_at, updated_at FROM "
     "collections WHERE tenant_id = ? ORDER BY id",
     0},
    {"collection_counters",
     "tenant_id, collection_id, shard, document_count, storage_bytes, write_seq",
     "SELECT tenant_id, collection_id, shard, document_count, storage_bytes, write_seq FROM "
     "collection_counters WHERE tenant_id = ? ORDER BY collection_id, shard",
     0},
    {"documents",
     "tenant_id, collection_id, id, body, version, created_at, changed_at, created_by, "
     "changed_by, org_id, size",
     "SELECT tenant_id, collection_id, id, body, version, created_at, changed_at, created_by, "
     "changed_by, org_id, size FROM documents WHERE tenant_id = ? ORDER BY collection_id, id",
     0},
    {"files", "id, tenant_id, name, content_type, size, sha256, created_at, created_by",
     "SELECT id, tenant_id, name, content_type, size, sha256, created_at, created_by FROM files "
     "WHERE tenant_id = ? ORDER BY id",
     1},
};

size_t ColumnCount(const Table& t) {
    return static_cast<size_t>(std::count(t.columns.begin(), t.columns.end(), ',')) + 1;
}

std::vector<std::string> ColumnsOf(const Table& t) {
    std::vector<std::string> out;
    std::string_view rest = t.columns;
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        out.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? "" : rest.substr(comma + 2);
    }
    return out;
}

const Table* TableNamed(std::string_view name) {
    for (const auto& t : kTables)
        if (t.name == name) return &t;
    return nullptr;
}

json::value ToJson(const storage::Value& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return *i;
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* s = std::get_if<std::string>(&v)) return json::string(*s);
    return nullptr;  // no exported column holds a blob
}

Result<storage::Value> FromJson(const json::value& v) {
    if (v.is_null()) return storage::Value{};
    if (v.is_int64()) return storage::Value{v.get_int64()};
    if (v.is_double()) return storage::Value{v.get_double()};
    if (v.is_string()) return storage::Value{std::string(v.get_string())};
    return Error::BadRequest("a row holds a value of another kind");
}

const std::string& Text(const storage::Value& v) {
    static const std::string kEmpty;
    const auto* s = std::get_if<std::string>(&v);
    return s ? *s : kEmpty;
}

// Column positions the import rewrites.
constexpr size_t kUserId = 0, kUserEmail = 1, kUserIsAdmin = 6, kUserCreatedAt = 7;
constexpr size_t kMemberUser = 1, kMemberUserCreatedAt = 4;
constexpr size_t kOrgMemberUser = 2;
constexpr size_t kDocBody = 3, kDocCreatedBy = 7, kDocChangedBy = 8;
constexpr size_t kFileId = 0, kFileSize = 4, kFileSha = 5, kFileCreatedBy = 7;

using TableRows = std::map<std::string, std::vector<storage::Params>, std::less<>>;

}  // namespace

Task<Result<TransferReport>> ExportTenant(storage::Database& db, files::ContentStore& store,
                                          std::string tenant_id, std::ostream& out) {
    // Every row in one transaction: one consistent state of the tenant.
    TableRows rows;
    storage::TransactionFn read = [&](storage::Session& tx) -> Task<Status> {
        rows.clear();
        for (const auto& t : kTables) {
            auto params = storage::Bind(tenant_id);
            TB_CO_ASSIGN_OR_RETURN(storage::Rows got, co_await tx.Query(t.select, params));
            rows[std::string(t.name)] = std::move(got.rows);
        }
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db.Transaction(read));
    if (rows["tenants"].empty()) co_return Error::NotFound("No tenant " + tenant_id);

    json::object header{{"format", kFormat}, {"version", kVersion}, {"tenant", tenant_id}};
    json::object columns;
    for (const auto& t : kTables) {
        json::array names;
        for (const auto& c : ColumnsOf(t)) names.emplace_back(json::string(c));
        columns[t.name] = std::move(names);
    }
    header["columns"] = std::move(columns);
    out << WriteJson(header) << '\n';
    TransferReport report;
    for (const auto& t : kTables) {
        for (const auto& row : rows[std::string(t.name)]) {
            json::array values;
            for (const auto& v : row) values.push_back(ToJson(v));
            json::object line{{"table", t.name}, {"row", std::move(values)}};
            out << WriteJson(line) << '\n';
            ++report.rows;
        }
    }
    report.documents = static_cast<int64_t>(rows["documents"].size());
    const auto scope = storage::TenantScope::Of(tenant_id);
    std::string piece(kContentPiece, '\0');
    for (const auto& row : rows["files"]) {
        const std::string& id = Text(row[kFileId]);
        const auto size = static_cast<uint64_t>(std::get<int64_t>(row[kFileSize]));
        TB_CO_ASSIGN_OR_RETURN(auto source, co_await store.Open(scope, id, 0, size));
        uint64_t left = size;
        do {  // an empty file has one line, with no data
            size_t filled = 0;
            while (filled < piece.size() && left > 0) {
                std::span<char> into(piece.data() + filled, piece.size() - filled);
                TB_CO_ASSIGN_OR_RETURN(size_t n, co_await source->Read(into));
                if (n == 0) co_return Error::Internal("file " + id + " is shorter than its row");
                filled += n;
                left -= n;
            }
            std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(piece.data()), filled);
            json::object line{{"content", id}, {"data", Base64UrlEncode(bytes)}};
            out << WriteJson(line) << '\n';
        } while (left > 0);
        ++report.files;
    }
    json::object end{{"end", true}, {"rows", report.rows}};
    out << WriteJson(end) << '\n';
    out.flush();
    if (!out) co_return Error::Internal("writing the export failed");
    co_return report;
}

namespace {

// What an import file holds, read and checked before anything is written.
struct Reader {
    std::string tenant_id;
    TableRows rows;
    int64_t row_count = 0;
};

Result<Reader> ReadHeader(const std::string& line) {
    auto header = ParseJson(line);
    if (!header.ok() || !header->is_object())
        return Error::BadRequest("not a Tenantbase tenant export (the first line)");
    const auto& h = header->get_object();
    const auto* format = h.if_contains("format");
    const auto* version = h.if_contains("version");
    const auto* tenant = h.if_contains("tenant");
    const auto* columns = h.if_contains("columns");
    if (!format || !format->is_string() || format->get_string() != kFormat)
        return Error::BadRequest("not a Tenantbase tenant export");
    if (!version || !version->is_int64() || version->get_int64() != kVersion)
        return Error::BadRequest("an export of another format version");
    if (!tenant || !tenant->is_string() || !columns || !columns->is_object())
        return Error::BadRequest("the export's header is incomplete");
    for (const auto& t : kTables) {
        json::array expected;
        for (const auto& c : ColumnsOf(t)) expected.emplace_back(json::string(c));
        const auto* got = columns->get_object().if_contains(t.name);
        if (!got || *got != json::value(expected))
            return Error::BadRequest("the export's columns of " + std::string(t.name) +
                                     " differ from this version's");
    }
    Reader r;
    r.tenant_id = std::string(tenant->get_string());
    return r;
}

}  // namespace

Task<Result<TransferReport>> ImportTenant(storage::Database& db, files::ContentStore& store,
                                          std::istream& in) {
    std::string line;
    if (!std::getline(in, line)) co_return Error::BadRequest("the export is empty");
    TB_CO_ASSIGN_OR_RETURN(Reader file, ReadHeader(line));
    const auto scope = storage::TenantScope::Of(file.tenant_id);
    const JsonLimits limits{.max_depth = 256};

    // Rows into memory; contents into the store as they come, checked against their rows.
    std::map<std::string, std::unique_ptr<files::ContentWriter>> writers;
    std::map<std::string, std::pair<int64_t, std::string>> expected;  // id → size, sha256
    std::string current;
    int64_t written = 0;
    std::optional<Sha256> digest;
    auto finish_current = [&]() -> Result<bool> {
        if (current.empty()) return true;
        const auto& [size, sha] = expected[current];
        if (written != size || digest->FinishHex() != sha)
            return Error::BadRequest("the content of file " + current + " does not match its row");
        digest.reset();
        return true;
    };
    bool ended = false;
    for (int64_t n = 2; std::getline(in, line); ++n) {
        if (ended) co_return Error::BadRequest("lines after the end, at line " + std::to_string(n));
        auto parsed = ParseJson(line, limits);
        if (!parsed.ok() || !parsed->is_object())
            co_return Error::BadRequest("line " + std::to_string(n) + " is not a JSON object");
        const auto& o = parsed->get_object();
        if (const auto* table = o.if_contains("table")) {
            const Table* t = table->is_string() ? TableNamed(table->get_string()) : nullptr;
            const auto* values = o.if_contains("row");
            if (!t || !values || !values->is_array() ||
                values->get_array().size() != ColumnCount(*t))
                co_return Error::BadRequest("line " + std::to_string(n) + " is not a row");
            storage::Params row;
            for (const auto& v : values->get_array()) {
                TB_CO_ASSIGN_OR_RETURN(storage::Value value, FromJson(v));
                row.push_back(std::move(value));
            }
            // Only the tenant's own rows.
            if (t->tenant_column != kNoTenantColumn &&
                Text(row[t->tenant_column]) != file.tenant_id)
                co_return Error::BadRequest("line " + std::to_string(n) + " is another tenant's");
            if (t->name == "files") {
                expected[Text(row[kFileId])] = {std::get<int64_t>(row[kFileSize]),
                                                Text(row[kFileSha])};
            }
            file.rows[std::string(t->name)].push_back(std::move(row));
            ++file.row_count;
        } else if (const auto* content = o.if_contains("content")) {
            const auto* data = o.if_contains("data");
            if (!content->is_string() || !data || !data->is_string())
                co_return Error::BadRequest("line " + std::to_string(n) + " is not a content");
            std::string id(content->get_string());
            if (!expected.contains(id))
                co_return Error::BadRequest("line " + std::to_string(n) + ": no file " + id);
            if (id != current) {
                TB_CO_RETURN_IF_ERROR(finish_current());
                if (writers.contains(id))
                    co_return Error::BadRequest("the content of file " + id + " is split");
                TB_CO_ASSIGN_OR_RETURN(auto writer, co_await store.Create(scope, id));
                writers[id] = std::move(writer);
                current = id;
                written = 0;
                digest.emplace();
            }
            auto bytes = Base64UrlDecode(data->get_string());
            if (!bytes) co_return Error::BadRequest("line " + std::to_string(n) + ": bad data");
            TB_CO_RETURN_IF_ERROR(co_await writers[id]->Write(*bytes));
            digest->Update(*bytes);
            written += static_cast<int64_t>(bytes->size());
        } else if (o.contains("end")) {
            const auto* rows = o.if_contains("rows");
            if (!rows || !rows->is_int64() || rows->get_int64() != file.row_count)
                co_return Error::BadRequest("the export's row count does not match its rows");
            ended = true;
        } else {
            co_return Error::BadRequest("line " + std::to_string(n) + " is not understood");
        }
    }
    if (!ended) co_return Error::BadRequest("the export is cut short (no end line)");
    TB_CO_RETURN_IF_ERROR(finish_current());
    if (writers.size() != expected.size())
        co_return Error::BadRequest("the export lacks the content of some files");
    if (file.rows["tenants"].size() != 1) co_return Error::BadRequest("the export has no tenant");
    for (auto& [id, writer] : writers) TB_CO_RETURN_IF_ERROR(co_await writer->Commit());

    TransferReport report;
    storage::TransactionFn write = [&](storage::Session& tx) -> Task<Status> {
        report = TransferReport{};
        const auto& tenant = file.rows["tenants"].front();
        auto probe = storage::Bind(Text(tenant[0]), Text(tenant[2]));
        TB_CO_ASSIGN_OR_RETURN(
            storage::Rows taken,
            co_await tx.Query("SELECT 1 FROM tenants WHERE id = ? OR slug = ?", probe));
        if (!taken.empty())
            co_return Error::Conflict("A tenant with this id or slug exists on this instance");
        // Each member's account here: the same id, or the same email, or a new one.
        std::map<std::string, std::pair<std::string, int64_t>> account;  // old id → id, created
        std::set<std::string> fresh;
        for (const auto& u : file.rows["users"]) {
            auto who = storage::Bind(Text(u[kUserId]), Text(u[kUserEmail]));
            TB_CO_ASSIGN_OR_RETURN(
                storage::Rows found,
                co_await tx.Query("SELECT id, created_at FROM users WHERE id = ? OR email = ?",
                                  who));
            if (found.empty()) {
                account[Text(u[kUserId])] = {Text(u[kUserId]),
                                             std::get<int64_t>(u[kUserCreatedAt])};
                fresh.insert(Text(u[kUserId]));
            } else {
                account[Text(u[kUserId])] = {Text(found.rows[0][0]),
                                             std::get<int64_t>(found.rows[0][1])};
                ++report.users_matched;
            }
        }
        auto mapped = [&](const storage::Value& v) -> storage::Value {
            auto it = account.find(Text(v));
            return it == account.end() ? v : storage::Value{it->second.first};
        };
        for (const auto& t : kTables) {
            std::string insert =
                "INSERT INTO " + std::string(t.name) + " (" + std::string(t.columns) + ") VALUES (";
            for (size_t i = 0; i < ColumnCount(t); ++i) insert += i ? ", ?" : "?";
            insert += ")";
            for (storage::Params row : file.rows[std::string(t.name)]) {  // a copy: fn may rerun
                if (t.name == "users") {
                    if (!fresh.contains(Text(row[kUserId]))) continue;
                    row[kUserIsAdmin] = int64_t{0};  // never a platform admin by import
                } else if (t.name == "memberships") {
                    row[kMemberUserCreatedAt] = account[Text(row[kMemberUser])].second;
                    row[kMemberUser] = mapped(row[kMemberUser]);
                } else if (t.name == "organization_members") {
                    row[kOrgMemberUser] = mapped(row[kOrgMemberUser]);
                } else if (t.name == "documents") {
                    storage::Value by = mapped(row[kDocCreatedBy]);
                    storage::Value changed = mapped(row[kDocChangedBy]);
                    if (by != row[kDocCreatedBy] || changed != row[kDocChangedBy]) {
                        auto body = ParseJson(Text(row[kDocBody]), limits);
                        if (!body.ok() || !body->is_object())
                            co_return Error::BadRequest("a document's body is not an object");
                        auto& o = body->get_object();
                        if (o.contains("_createdby")) o["_createdby"] = json::string(Text(by));
                        if (o.contains("_changedby")) o["_changedby"] = json::string(Text(changed));
                        row[kDocBody] = WriteJson(*body);
                    }
                    row[kDocCreatedBy] = by;
                    row[kDocChangedBy] = changed;
                    ++report.documents;
                } else if (t.name == "files") {
                    row[kFileCreatedBy] = mapped(row[kFileCreatedBy]);
                    ++report.files;
                }
                auto inserted = co_await tx.Execute(insert, row);
                if (!inserted.ok()) co_return std::move(inserted).error();
                ++report.rows;
            }
        }
        for (auto& [id, writer] : writers) TB_CO_RETURN_IF_ERROR(co_await writer->Finish(tx));
        co_return Status{};
    };
    Status done = co_await db.Transaction(write);
    if (!done.ok()) {
        for (auto& [id, writer] : writers) {
            Status removed = co_await store.Remove(scope, id);
            (void)removed;  // the sweep takes what is left
        }
        co_return std::move(done).error();
    }
    // The collections' declared indexes, built outside the transaction as everywhere else.
    collections::DocumentIndexes indexes(db);
    for (const auto& c : file.rows["collections"]) {
        auto declared = ParseJson(Text(c[4]));
        if (!declared.ok()) continue;
        auto specs = collections::ParseIndexes(*declared);
        if (!specs.ok() || specs->empty()) continue;
        const std::string& collection_id = Text(c[1]);
        auto made = co_await indexes.CreateMissing(collection_id, *specs);
        if (!made.ok()) co_return std::move(made).error();
    }
    co_return report;
}

}  // namespace tb::app
