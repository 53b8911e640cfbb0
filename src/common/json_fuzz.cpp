// Fuzz target: request JSON (ParseJson, with its depth limit) and what the server writes back.
// Invariants beyond "no crash": a text that parses writes out as valid UTF-8 JSON that parses
// to the same value (the round trip), holds no non-finite number, and a text deeper than the
// limit is refused, never parsed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/fuzz_check.h"
#include "common/json.h"
#include "common/strings.h"

namespace {

// Equal as JSON: numbers by value whatever their kind (1.0 is written "1" and reads back as
// an integer; JSON has one number type).
bool SameJson(const tb::json::value& a, const tb::json::value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_double() || b.is_double()) return a.to_number<double>() == b.to_number<double>();
        if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
        if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
        const auto& i = a.is_int64() ? a : b;  // one int64, one uint64
        const auto& u = a.is_int64() ? b : a;
        return i.get_int64() >= 0 && static_cast<uint64_t>(i.get_int64()) == u.get_uint64();
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!SameJson(x[i], y[i])) return false;
        return true;
    }
    if (a.is_object()) {
        const auto &x = a.get_object(), &y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& kv : x) {
            const auto* other = y.if_contains(kv.key());
            if (!other || !SameJson(kv.value(), *other)) return false;
        }
        return true;
    }
    return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    tb::JsonLimits limits;
    limits.max_depth = 16;
    auto parsed = tb::ParseJson(text, limits);
    if (!parsed.ok()) {
        tb::FuzzCheck(!parsed.error().message.empty(), "an error without a message");
        return 0;
    }
    tb::FuzzCheck(!tb::NonFinitePath(*parsed), "a non-finite number parsed");
    const std::string out = tb::WriteJson(*parsed);
    tb::FuzzCheck(tb::IsValidUtf8(out), "written JSON is not UTF-8");
    auto again = tb::ParseJson(out, limits);
    tb::FuzzCheck(again.ok(), "written JSON does not parse again");
    tb::FuzzCheck(SameJson(*again, *parsed), "the round trip changed the value");
    // Stable from the second write on ("-0", a double, reads back as the integer 0).
    const std::string out2 = tb::WriteJson(*again);
    auto third = tb::ParseJson(out2, limits);
    tb::FuzzCheck(third.ok() && tb::WriteJson(*third) == out2, "writing is not stable");
    // Stored text goes through the repairing parser: it must accept what we wrote as is.
    auto stored = tb::ParseStoredJson(out, limits);
    tb::FuzzCheck(stored.ok() && SameJson(*stored, *parsed), "stored JSON reads differently");
    return 0;
}
