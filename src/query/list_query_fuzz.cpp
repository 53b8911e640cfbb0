// Fuzz target: a list request's query string, as the documents endpoint reads it (API.md
// §1.2, §5.3): ParseList with `q=`, `h=` hints, bracket filters on document paths, sorts,
// pages and cursors, then the document filters (`q` and the path filters) into their tree.
// Beyond "no crash": every refusal names the parameter at fault; a query that parses gives
// the same result when parsed again; a cursor made for it decodes to the keys it was made of.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "query/doc_filter.h"
#include "query/list_query.h"

namespace {

using tb::query::Field;
using tb::query::Type;

void Check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// As collections::DocumentsResource (the endpoint's declaration).
const tb::query::Resource& Documents() {
    static const tb::query::Resource r{"documents",
                                       "d.id",
                                       {{"_id", "d.id", Type::kId},
                                        {"_created", "d.created_at", Type::kTime},
                                        {"_changed", "d.changed_at", Type::kTime},
                                        {"_createdby", "d.created_by", Type::kText, true},
                                        {"_changedby", "d.changed_by", Type::kText, true},
                                        {"_version", "d.version", Type::kInt},
                                        {"_org", "d.org_id", Type::kText, true}},
                                       {"q"},
                                       /*hints=*/true,
                                       /*open_projection=*/true,
                                       /*open_filters=*/true};
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const tb::query::CursorCodec codec("fuzz-secret");
    auto parsed = tb::query::ParseList(text, Documents(), codec);
    if (!parsed.ok()) {
        Check(parsed.error().details.contains("field"), "a refusal names no parameter");
        return 0;
    }
    auto again = tb::query::ParseList(text, Documents(), codec);
    Check(again.ok() && again->Fingerprint(Documents()) == parsed->Fingerprint(Documents()),
          "parsing again differs");
    // The document filters the endpoint builds next.
    if (auto q = parsed->extra.find("q"); q != parsed->extra.end()) {
        auto filter = tb::query::ParseDocFilter(q->second);
        if (!filter.ok()) Check(!filter.error().message.empty(), "a q refusal without a message");
    }
    if (!parsed->path_filters.empty()) (void)tb::query::DocFilterFromParams(parsed->path_filters);
    // A cursor for this query, made of keys of each kind, decodes to those keys.
    std::vector<tb::query::Literal> keys;
    for (const auto& k : parsed->sort) {
        if (k.field) {
            keys.emplace_back(int64_t{42});
        } else {
            keys.emplace_back(int64_t{1});
            keys.emplace_back(0.9392207937159469);
            keys.emplace_back(std::string("t\xc3\xa9 \"q\\"));  // stored text is UTF-8
        }
    }
    keys.emplace_back(std::string("01a250b7-e953-71da-91b2-0e131edb5e34"));
    const std::string cursor = codec.Encode(Documents(), *parsed, keys);
    auto decoded = codec.Decode(cursor, Documents(), *parsed);
    Check(decoded.ok(), "a cursor made for the query does not decode");
    Check(*decoded == keys, "a cursor decodes to other keys");
    return 0;
}
