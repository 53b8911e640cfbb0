#include "storage/sqlite/sqlite_functions.h"

#include <re2/re2.h>

#include <memory>
#include <string>

#include "common/json.h"

namespace tb::storage {

namespace {

void DeleteRegex(void* p) { delete static_cast<RE2*>(p); }

void Regexp(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    if (argc != 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL ||
        sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    re2::StringPiece subject(text, sqlite3_value_bytes(argv[0]));
    if (const auto* cached = static_cast<const RE2*>(sqlite3_get_auxdata(ctx, 1))) {
        sqlite3_result_int(ctx, RE2::PartialMatch(subject, *cached) ? 1 : 0);
        return;
    }
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    auto re = std::make_unique<RE2>(re2::StringPiece(p, sqlite3_value_bytes(argv[1])), RE2::Quiet);
    if (!re->ok()) {
        std::string error = "tb_regexp: " + re->error();
        sqlite3_result_error(ctx, error.c_str(), -1);
        return;
    }
    sqlite3_result_int(ctx, RE2::PartialMatch(subject, *re) ? 1 : 0);
    // Kept while the pattern argument stays the same (SQLite may drop it at once).
    sqlite3_set_auxdata(ctx, 1, re.release(), DeleteRegex);
}

void NullNonFinite(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    std::string repaired =
        NullNonFiniteTokens(std::string_view(text, sqlite3_value_bytes(argv[0])));
    sqlite3_result_text(ctx, repaired.data(), static_cast<int>(repaired.size()), SQLITE_TRANSIENT);
}

}  // namespace

Status RegisterSqliteFunctions(sqlite3* db) {
    int rc = sqlite3_create_function_v2(db, "tb_regexp", 2,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                        nullptr, Regexp, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return Error::Internal(std::string("sqlite: registering tb_regexp: ") + sqlite3_errstr(rc));
    rc = sqlite3_create_function_v2(db, "tb_null_non_finite", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                    NullNonFinite, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return Error::Internal(std::string("sqlite: registering tb_null_non_finite: ") +
                               sqlite3_errstr(rc));
    return {};
}

}  // namespace tb::storage
