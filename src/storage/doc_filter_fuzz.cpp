// Fuzz target: the document query language end to end. The first line of the input is `q`
// (or, after `~`, the text of RestDB's `filter=`; after `?`, path filters `n[gt]=5&t=x`); every
// further line that is a JSON object is one more document beside a fixed set of varied ones. The
// filter is compiled to SQL for both dialects, SQLite's is run on an in-memory database holding the
// documents as the store writes them, and the rows it returns must be exactly the documents the
// reference evaluator (query/doc_match.h) accepts: the SQL means what doc_filter.h says, on every
// document.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuzz_check.h"
#include "common/json.h"
#include "query/doc_filter.h"
#include "query/doc_match.h"
#include "storage/doc_sql.h"
#include "storage/postgres/pg_dialect.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace {

using tb::storage::SqliteConnection;

// Values of every JSON kind, with the edges the stores read differently if at all: integers
// past 2^53 and int64, -0.0, fractions, case and non-ASCII text, empty containers.
const char* const kValues[] = {"null",
                               "true",
                               "false",
                               "0",
                               "-0.0",
                               "1",
                               "-1",
                               "2.5",
                               "1e300",
                               "-7.25e-5",
                               "9007199254740993",
                               "9223372036854775807",
                               "-9223372036854775808",
                               "18446744073709551615",
                               "\"\"",
                               "\"a\"",
                               "\"A\"",
                               "\"abc\"",
                               "\"ABC\"",
                               "\"b\"",
                               "\"\\u00e9t\\u00e9\"",
                               "\"a b\\nc\"",
                               "\"10\"",
                               "\"true\"",
                               "\"null\"",
                               "[]",
                               "[1, 2, 3]",
                               "[\"a\", \"B\", null]",
                               "[{\"k\": \"a\", \"v\": 1}, {\"k\": \"b\", \"v\": [80, 85]}]",
                               "[[1, 2], [3]]",
                               "{}",
                               "{\"b\": 1, \"c\": \"x\"}",
                               "{\"b\": {\"c\": [true, 2]}}",
                               "{\"_x\": \"hid\"}"};
const char* const kNames[] = {"a", "b", "c", "n", "s", "t", "_id", "_version"};

// A fixed set of documents: each name gets a value (or is left out) by a simple
// deterministic walk, so that every value appears under every name somewhere.
std::vector<std::string> BaseDocuments() {
    std::vector<std::string> docs;
    constexpr size_t kValueCount = std::size(kValues);
    for (size_t d = 0; d < 2 * kValueCount; ++d) {
        std::string body = "{";
        for (size_t n = 0; n < std::size(kNames); ++n) {
            size_t pick = (d * 7 + n * 13 + d / kValueCount) % (kValueCount + 3);
            if (pick >= kValueCount) continue;  // missing
            std::string_view name = kNames[n];
            if (name == "_id") {
                body += "\"_id\":\"" + std::to_string(d) + "\",";
                continue;
            }
            body += "\"" + std::string(name) + "\":" + kValues[pick] + ",";
        }
        if (body.size() > 1) body.pop_back();
        docs.push_back(body + "}");
    }
    return docs;
}

// What the document endpoints would accept and store (collections/document.cpp refuses NUL
// in text and `.`/`$` in names); anything else is not a document a filter ever meets.
bool Storable(const tb::json::value& v) {
    if (v.is_string()) return std::string_view(v.get_string()).find('\0') == std::string::npos;
    if (v.is_array()) {
        for (const auto& item : v.get_array())
            if (!Storable(item)) return false;
    }
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            std::string_view key = kv.key();
            if (key.find('\0') != std::string_view::npos ||
                key.find('.') != std::string_view::npos || key.starts_with('$') ||
                !Storable(kv.value()))
                return false;
        }
    }
    return true;
}

// `a=1&b[gt]=x` as the list parser hands path filters over (already decoded).
std::vector<std::pair<std::string, std::string>> Params(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        const size_t amp = text.find('&');
        const std::string_view part = text.substr(0, amp);
        const size_t eq = part.find('=');
        out.emplace_back(part.substr(0, eq),
                         eq == std::string_view::npos ? "" : part.substr(eq + 1));
        text = amp == std::string_view::npos ? "" : text.substr(amp + 1);
    }
    return out;
}

SqliteConnection& Database() {
    static std::unique_ptr<SqliteConnection> db = [] {
        auto opened = SqliteConnection::Open(":memory:", SqliteConnection::Mode::kReadWrite);
        tb::FuzzCheck(opened.ok(), "opening SQLite in memory");
        auto conn = std::move(*opened);
        tb::FuzzCheck(conn->Script("CREATE TABLE documents (tenant_id TEXT NOT NULL, "
                                   "id INTEGER NOT NULL, body TEXT NOT NULL)")
                          .ok(),
                      "creating the table");
        return conn;
    }();
    return *db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<std::string> kBase = BaseDocuments();
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t eol = input.find('\n');
    const std::string_view first = input.substr(0, eol);

    auto filter = first.starts_with('~') ? tb::query::TextSearchFilter(std::string(first.substr(1)))
                  : first.starts_with('?') ? tb::query::DocFilterFromParams(Params(first.substr(1)))
                                           : tb::query::ParseDocFilter(first);
    if (!filter.ok()) return 0;

    // The documents, as the store writes them (WriteJson, like RenderDocument).
    std::vector<std::string> bodies = kBase;
    for (size_t at = eol; at != std::string_view::npos && bodies.size() < kBase.size() + 16;) {
        const size_t next = input.find('\n', at + 1);
        auto line = input.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
        at = next;
        auto doc = tb::ParseJson(line);
        if (!doc.ok() || !doc->is_object() || !Storable(*doc)) continue;
        bodies.push_back(tb::WriteJson(*doc));
    }

    SqliteConnection& db = Database();
    tb::FuzzCheck(db.Execute("DELETE FROM documents WHERE tenant_id = 't'", {}).ok(), "clearing");
    for (size_t i = 0; i < bodies.size(); ++i) {
        tb::FuzzCheck(db.Execute("INSERT INTO documents (tenant_id, id, body) VALUES ('t', ?, ?)",
                                 {int64_t(i), bodies[i]})
                          .ok(),
                      "inserting a document");
    }

    // PostgreSQL's text: compiled (not run here) with as many parameters as SQLite's.
    tb::storage::Params sqlite_params, pg_params;
    const std::string condition =
        tb::storage::CompileDocFilter(tb::storage::SqliteDialect(), *filter, sqlite_params);
    (void)tb::storage::CompileDocFilter(tb::storage::PostgresDialect(), *filter, pg_params);
    tb::FuzzCheck(pg_params == sqlite_params, "the dialects bind different parameters");

    auto rows = db.Query(
        "SELECT id FROM documents d WHERE d.tenant_id = 't' AND (" + condition + ") ORDER BY id",
        sqlite_params);
    if (!rows.ok()) {
        std::fprintf(stderr, "SQL: %s\nerror: %s\n", condition.c_str(),
                     rows.error().message.c_str());
    }
    tb::FuzzCheck(rows.ok(), "SQLite refused the compiled filter");

    const tb::query::DocMatcher matcher(std::move(*filter));
    size_t row = 0;
    for (size_t i = 0; i < bodies.size(); ++i) {
        const bool by_sql =
            row < rows->size() && std::get<int64_t>(rows->rows[row][0]) == static_cast<int64_t>(i);
        if (by_sql) ++row;
        const bool by_reference = matcher.Matches(tb::ParseJson(bodies[i])->as_object());
        if (by_sql != by_reference) {
            std::fprintf(stderr, "document %s\nSQL says %d, the evaluator %d\nSQL: %s\n",
                         bodies[i].c_str(), by_sql, by_reference, condition.c_str());
        }
        tb::FuzzCheck(by_sql == by_reference, "the SQL and the evaluator disagree");
    }
    return 0;
}
