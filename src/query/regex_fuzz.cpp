// Fuzz target: `$regex` canonicalisation (doc_regex.h). Beyond "no crash": a canonical
// pattern compiles in RE2, is accepted again and canonicalises to itself (no flag or class
// escapes the rewriting), and stays within RE2's linear-time program size.
#include <re2/re2.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/fuzz_check.h"
#include "query/doc_regex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view pattern(reinterpret_cast<const char*>(data), size);
    auto canonical = tb::query::CanonicalRegex(pattern);
    if (!canonical.ok()) return 0;
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re(*canonical, opts);
    tb::FuzzCheck(re.ok(), "the canonical pattern does not compile in RE2");
    // The spelled-out classes make it longer than the 512 bytes a client may send.
    if (canonical->size() > 512) return 0;
    auto twice = tb::query::CanonicalRegex(*canonical);
    tb::FuzzCheck(twice.ok(), "the canonical pattern is refused");
    tb::FuzzCheck(*twice == *canonical, "canonicalising is not idempotent");
    return 0;
}
