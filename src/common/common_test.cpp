#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <random>
#include <set>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/error.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/strings.h"

namespace tb {
namespace {

TEST(Rfc3339, FormatsUtcWithMillis) {
    EXPECT_EQ(FormatRfc3339(FromUnixMillis(1778155200123)), "2026-05-07T12:00:00.123Z");
    EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

// Differential: the <chrono> calendar against gmtime_r, over random instants from 1900 to
// 9999 (the seed is fixed so that a failure reproduces).
TEST(Rfc3339, FormatsLikeGmtime) {
    std::mt19937_64 rng(20261203);
    std::uniform_int_distribution<int64_t> ms(-2'208'988'800'000, 253'402'300'799'999);
    for (int i = 0; i < 20000; ++i) {
        int64_t t =
            i < 4 ? std::array<int64_t, 4>{0, -1, 951'782'400'000, 4'107'542'399'999}[i] : ms(rng);
        int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
        std::time_t tt = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char expected[96];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, static_cast<int>(t - secs * 1000));
        ASSERT_EQ(FormatRfc3339(FromUnixMillis(t)), expected) << t;
    }
    std::string out = "x";
    AppendRfc3339(out, FromUnixMillis(1778155200123));
    EXPECT_EQ(out, "x2026-05-07T12:00:00.123Z");
}

TEST(Rfc3339, ParsesWhatItFormatsAndOffsets) {
    auto t = FromUnixMillis(1778155200123);
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
    EXPECT_EQ(ParseRfc3339("2026-05-07T14:00:00.123+02:00"), t);
    EXPECT_EQ(ParseRfc3339("2026-05-07T12:00:00Z"), FromUnixMillis(1778155200000));
}

TEST(Rfc3339, CalendarEdges) {
    EXPECT_EQ(ParseRfc3339("2028-02-29T00:00:00Z"), FromUnixMillis(1835395200000));  // leap year
    // A leap second reads as the next minute's first; an offset may cross midnight.
    EXPECT_EQ(ParseRfc3339("2026-06-30T23:59:60Z"), ParseRfc3339("2026-07-01T00:00:00Z"));
    EXPECT_EQ(ParseRfc3339("2026-01-01T00:30:00+01:00"), ParseRfc3339("2025-12-31T23:30:00Z"));
    EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.999Z"), FromUnixMillis(-1));
}

TEST(Rfc3339, RejectsMalformed) {
    for (auto bad :
         {"", "2026-05-07", "2026-05-07T12:00:00", "2026-13-07T12:00:00Z", "2026-02-31T12:00:00Z",
          "2026-05-07T12:00:00.Z", "2026-05-07T12:00:00Zx", "2026-05-07 12:00:00Z",
          "2026-02-29T12:00:00Z", "2026-02-31T23:59:60Z", "2026-04-31T00:00:00Z"}) {
        EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
    }
}

TEST(IdGenerator, ProducesVersion7AndIncreases) {
    FakeClock clock(FromUnixMillis(1778155200000));
    IdGenerator ids(clock);
    std::string prev;
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {  // many in one millisecond: the sequence must carry
        std::string id = ids.Next();
        ASSERT_TRUE(IsUuid(id)) << id;
        EXPECT_EQ(id[14], '7');
        EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
        EXPECT_GT(id, prev);
        prev = id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 10000u);
    EXPECT_EQ(prev.substr(0, 8), "019e024f");  // 1778155200000 ms = 0x019e024f1e00: time leads
}

TEST(IsUuid, ChecksShape) {
    EXPECT_TRUE(IsUuid("018b6216-27a1-7e2b-aa83-67d7ba500982"));
    EXPECT_FALSE(IsUuid("018b6216-27a1-7e2b-aa83-67d7ba50098"));
    EXPECT_FALSE(IsUuid("018b6216x27a1-7e2b-aa83-67d7ba500982"));
    EXPECT_FALSE(IsUuid("018b6216-27a1-7e2b-aa83-67d7ba50098g"));
}

TEST(Base64Url, RoundTripsAndRejectsNonCanonical) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        std::string enc =
            Base64UrlEncode(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
        EXPECT_EQ(Base64UrlDecode(enc), s);
    }
    EXPECT_EQ(
        Base64UrlEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("\xfb\xff"), 2)),
        "-_8");
    EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // stray low bits
    EXPECT_FALSE(Base64UrlDecode("Zm9v=").has_value());
    EXPECT_FALSE(Base64UrlDecode("Z").has_value());
}

TEST(Encoding, TokensAreRandomAndLongEnough) {
    std::string a = RandomToken(32), b = RandomToken(32);
    EXPECT_EQ(a.size(), 43u);
    EXPECT_NE(a, b);
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // The per-thread context is reused: a second digest, and an empty input, are right too.
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Encoding, Sha256InPiecesEqualsTheOneShot) {
    std::string text(100'000, '\0');
    for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 7);
    Sha256 h;
    for (size_t i = 0; i < text.size(); i += 4093) h.Update(std::string_view(text).substr(i, 4093));
    EXPECT_EQ(h.FinishHex(), Sha256Hex(text));
    Sha256 empty;
    EXPECT_EQ(empty.FinishHex(), Sha256Hex(""));
}

TEST(Json, MalformedAndTooDeepAreBadRequest) {
    EXPECT_EQ(ParseJson("{bad").error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(ParseJson("").error().code, ErrorCode::kBadRequest);
    std::string deep(100, '[');
    deep += std::string(100, ']');
    auto r = ParseJson(deep, {.max_depth = 64});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_TRUE(ParseJson("[[[1]]]", {.max_depth = 64}).ok());
}

TEST(Json, TypedFieldsNameTheField) {
    auto v = ParseJson(R"({"email": 5, "name": "x", "on": "yes"})").value();
    auto& o = v.as_object();
    auto email = RequiredString(o, "email");
    ASSERT_FALSE(email.ok());
    EXPECT_EQ(email.error().code, ErrorCode::kValidation);
    EXPECT_EQ(email.error().details.at("field"), "email");
    EXPECT_EQ(OptionalString(o, "name").value(), "x");
    EXPECT_EQ(OptionalString(o, "missing", "d").value(), "d");
    EXPECT_FALSE(OptionalBool(o, "on", false).ok());
    auto unknown = RejectUnknownFields(o, {"email", "name"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().details.at("field"), "on");
}

TEST(Json, StringsEscapedAsBoostEscapesThem) {
    std::string every;
    for (int c = 1; c < 0x80; ++c) every += static_cast<char>(c);
    for (std::string s : {std::string(), every, std::string("caf\xC3\xA9 \xE2\x9C\x93 \"q\" \\"),
                          std::string("a\0b", 3)}) {
        std::string ours;
        AppendJsonString(ours, s);
        EXPECT_EQ(ours, json::serialize(json::string_view(s)));
        EXPECT_EQ(json::parse(ours).as_string(), s);
    }
}

TEST(Json, WriteJsonMatchesBoostButForDoubles) {
    json::value v = json::parse(
        R"({"s":"x\u0001\"y","i":-42,"u":18446744073709551615,"b":[true,false,null],"o":{"k":{}},"d":1.5})");
    EXPECT_EQ(
        WriteJson(v),
        R"({"s":"x\u0001\"y","i":-42,"u":18446744073709551615,"b":[true,false,null],"o":{"k":{}},"d":1.5})");
    EXPECT_EQ(json::parse(WriteJson(v)), v);
}

TEST(Errors, EveryCodeHasAName) {
    std::set<std::string_view> names;
    for (ErrorCode c : kAllErrorCodes) names.insert(ErrorCodeName(c));
    EXPECT_EQ(names.size(), std::size(kAllErrorCodes));
    EXPECT_EQ(ErrorCodeName(ErrorCode::kValidation), "VALIDATION_ERROR");
    EXPECT_EQ(Error::Internal("secret detail").message, "Internal error");
}

TEST(Strings, Helpers) {
    EXPECT_EQ(Trim("  a b \t"), "a b");
    EXPECT_EQ(ToLower("AbC"), "abc");
    EXPECT_TRUE(IEquals("Content-Type", "content-type"));
    EXPECT_EQ(SplitTrimmed(" a, ,b ,c", ','), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(Utf8Length("abc"), 3u);
    EXPECT_EQ(Utf8Length("\xC3\xA9t\xC3\xA9"), 3u);  // "été"
    EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1u);   // one emoji
}

TEST(Strings, Concat) {
    EXPECT_EQ(Concat({}), "");
    EXPECT_EQ(Concat({"json_extract(", "d.body", ", ", "'$.a'", ")"}),
              "json_extract(d.body, '$.a')");
    std::string owned = "x";
    EXPECT_EQ(Concat({owned, "", owned}), "xx");
    EXPECT_EQ(Concat({std::string_view("a\0b", 3)}).size(), 3u);  // bytes, not C strings
}

}  // namespace
}  // namespace tb

namespace tb {
namespace {
TEST(Strings, IsValidUtf8) {
    EXPECT_TRUE(IsValidUtf8(""));
    EXPECT_TRUE(IsValidUtf8("plain ascii"));
    EXPECT_TRUE(IsValidUtf8("\xC3\xA9t\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"));
    EXPECT_FALSE(IsValidUtf8("\xFF\xFE"));
    EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
    EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(
        IsValidUtf8("a\x80"
                    "b"));  // stray continuation
}
}  // namespace
}  // namespace tb

namespace tb {
namespace {

// Issue #20: U+FFFD in place of every byte that begins no well-formed sequence, never a
// character cut in two at the limit.
TEST(Strings, ToValidUtf8) {
    EXPECT_EQ(ToValidUtf8("curl/8.0"), "curl/8.0");
    EXPECT_EQ(ToValidUtf8("a\xFF"
                          "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(ToValidUtf8("\xC3"), "\xEF\xBF\xBD");
    EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(ToValidUtf8("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(ToValidUtf8("ab\xC3\xA9", 3), "ab");  // the é would not fit whole
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xFF\xFE\xFD\x80 x \xED\xA0\x80")));
}

// Issue #20: numbers past the double range are a 422 naming their path, before anything is
// stored; JSON written by this server never holds a non-finite number.
TEST(Json, NonFiniteNumbersAreRefusedWithTheirPath) {
    for (auto [text, path] : std::initializer_list<std::pair<const char*, const char*>>{
             {R"({"x":1e400})", "x"},
             {R"({"x":-1e400})", "x"},
             {R"({"a":{"b":[1,2,1e999]}})", "a.b.2"},
             {R"([{"ok":1},{"t":{"n":-2e308}}])", "1.t.n"},
             {"1e400", ""}}) {
        auto r = ParseJson(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.error().code, ErrorCode::kValidation) << text;
        EXPECT_EQ(r.error().details.at("field"), path) << text;
    }
    EXPECT_TRUE(ParseJson(R"({"x":1e308,"y":-1.7976931348623157e308,"z":1e-400})").ok());
}

TEST(Json, StoredNonFiniteNumbersReadAsNull) {
    // What older versions stored: Boost's "Infinity" and std::to_chars' "inf"/"nan".
    auto v = ParseStoredJson(
        R"({"a":Infinity,"b":[-Infinity,NaN],"c":inf,"d":{"e":-inf},"f":nan,"s":"x,inf,Infinity"})");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(
        WriteJson(*v),
        R"({"a":null,"b":[null,null],"c":null,"d":{"e":null},"f":null,"s":"x,inf,Infinity"})");
    EXPECT_EQ(NullNonFiniteTokens(R"(["inf\"inf",inf])"), R"(["inf\"inf",null])");
    EXPECT_FALSE(ParseStoredJson("{bad").ok());
}

TEST(Json, DoublesInPlainDecimalWhereAsShort) {
    // Money and percentages (issue #20): never 2.5E1 or 5E-2.
    EXPECT_EQ(WriteJson(json::value(25.0)), "25");
    EXPECT_EQ(WriteJson(json::value(2.5)), "2.5");
    EXPECT_EQ(WriteJson(json::value(0.05)), "0.05");
    EXPECT_EQ(WriteJson(json::value(1.0)), "1");
    EXPECT_EQ(WriteJson(json::value(0.0)), "0");
    EXPECT_EQ(WriteJson(json::value(12.34)), "12.34");
    EXPECT_EQ(WriteJson(json::value(1999.99)), "1999.99");
    EXPECT_EQ(WriteJson(json::value(1e300)), "1e+300");
    EXPECT_EQ(WriteJson(json::value(std::numeric_limits<double>::infinity())), "null");
    EXPECT_EQ(WriteJson(json::value(std::nan(""))), "null");
    for (double d : {0.1, 1.0 / 3, 123456.789, 5e-324, 1.7976931348623157e308})
        EXPECT_EQ(json::parse(WriteJson(json::value(d))).as_double(), d);
}

}  // namespace
}  // namespace tb

namespace tb {
namespace {
TEST(Json, HasDuplicateKeys) {
    auto dup = [](std::string_view t) { return HasDuplicateKeys(t, json::parse(t)); };
    EXPECT_FALSE(dup(R"({"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]})"));
    EXPECT_TRUE(dup(R"({"a":1,"a":2})"));
    EXPECT_TRUE(dup(R"({"x":{"a":1, "a" : 2}})"));
    EXPECT_TRUE(dup(R"([{"k":"v","k":"w"}])"));
    EXPECT_FALSE(dup(R"({"a":"x\":1","b":"\\"})"));  // colons and quotes in strings
    EXPECT_FALSE(dup(R"(["a:", "b"])"));
}
}  // namespace
}  // namespace tb

// Found by json_fuzz: Boost.JSON 1.81 rounds some decimal texts to the wrong double (about a
// third of random doubles written shortest), so a document did not read back the number its
// client wrote. ParseJson reads them with std::from_chars, which rounds correctly.
TEST(ParseJson, ReadsEveryDoubleItWritesBackExactly) {
    auto v = tb::ParseJson("[0.9392207937159469, -9.223372036856855e+21]");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->as_array()[0].as_double(), 0.9392207937159469);
    EXPECT_EQ(v->as_array()[1].as_double(), -9.223372036856855e+21);
    EXPECT_EQ(tb::WriteJson(*v), "[0.9392207937159469,-9.223372036856855e+21]");
    std::mt19937_64 rng(23);
    for (int i = 0; i < 100000; ++i) {
        uint64_t bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) continue;
        const std::string text = tb::WriteJson(tb::json::value(d));
        auto back = tb::ParseJson(text);
        ASSERT_TRUE(back.ok()) << text;
        ASSERT_EQ(back->to_number<double>(), d) << text;
    }
    // Past the double range is still refused, not read as a neighbour.
    EXPECT_FALSE(tb::ParseJson("1e400").ok());
    EXPECT_TRUE(tb::ParseJson("1e-400").ok());
}
