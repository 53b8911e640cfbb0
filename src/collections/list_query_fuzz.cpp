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

#include "collections/documents_resource.h"
#include "common/fuzz_check.h"
#include "query/doc_filter.h"
#include "query/list_query.h"


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const tb::query::CursorCodec codec("fuzz-secret");
    auto parsed = tb::query::ParseList(text, tb::collections::DocumentsResource(), codec);
    if (!parsed.ok()) {
        tb::FuzzCheck(parsed.error().details.contains("field"), "a refusal names no parameter");
        return 0;
    }
    auto again = tb::query::ParseList(text, tb::collections::DocumentsResource(), codec);
    tb::FuzzCheck(again.ok() && again->Fingerprint(tb::collections::DocumentsResource()) ==
                                    parsed->Fingerprint(tb::collections::DocumentsResource()),
                  "parsing again differs");
    // The document filters the endpoint builds next.
    if (auto q = parsed->extra.find("q"); q != parsed->extra.end()) {
        auto filter = tb::query::ParseDocFilter(q->second);
        if (!filter.ok())
            tb::FuzzCheck(!filter.error().message.empty(), "a q refusal without a message");
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
    const std::string cursor = codec.Encode(tb::collections::DocumentsResource(), *parsed, keys);
    auto decoded = codec.Decode(cursor, tb::collections::DocumentsResource(), *parsed);
    tb::FuzzCheck(decoded.ok(), "a cursor made for the query does not decode");
    tb::FuzzCheck(*decoded == keys, "a cursor decodes to other keys");
    return 0;
}
