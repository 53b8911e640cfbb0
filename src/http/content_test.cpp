#include "http/content.h"

#include <gtest/gtest.h>

namespace tb::http {
namespace {

using K = RangeDecision::Kind;

void ExpectRange(std::string_view header, uint64_t size, K kind, uint64_t offset = 0,
                 uint64_t length = 0) {
    RangeDecision d = DecideRange(header, size);
    EXPECT_EQ(d.kind, kind) << header << " of " << size;
    if (kind == K::kPartial) {
        EXPECT_EQ(d.offset, offset) << header;
        EXPECT_EQ(d.length, length) << header;
    }
}

TEST(DecideRange, SingleRangesOfEveryForm) {
    ExpectRange("bytes=0-0", 100, K::kPartial, 0, 1);
    ExpectRange("bytes=99-99", 100, K::kPartial, 99, 1);  // the last byte
    ExpectRange("bytes=10-19", 100, K::kPartial, 10, 10);
    ExpectRange("bytes=10-1000", 100, K::kPartial, 10, 90);  // clipped to the end
    ExpectRange("bytes=90-", 100, K::kPartial, 90, 10);      // open
    ExpectRange("bytes=-10", 100, K::kPartial, 90, 10);      // suffix
    ExpectRange("bytes=-1000", 100, K::kPartial, 0, 100);    // suffix larger than the file
    ExpectRange("BYTES= 5 - 6 ", 100, K::kPartial, 5, 2);
}

TEST(DecideRange, UnsatisfiableAndIgnored) {
    ExpectRange("bytes=100-", 100, K::kUnsatisfiable);  // starts past the end
    ExpectRange("bytes=100-200", 100, K::kUnsatisfiable);
    ExpectRange("bytes=-0", 100, K::kUnsatisfiable);
    ExpectRange("bytes=0-", 0, K::kUnsatisfiable);  // nothing to send of an empty file
    ExpectRange("bytes=-5", 0, K::kUnsatisfiable);
    for (const char* ignored : {"", "items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=a-b",
                                "bytes=", "bytes=-", "bytes=1", "bytes=99999999999999999999-"}) {
        ExpectRange(ignored, 100, K::kWhole);
    }
}

TEST(DecideRange, IfRangeMustMatch) {
    EXPECT_EQ(DecideRange("bytes=0-1", 10, "\"abc\"", "\"abc\"").kind, K::kPartial);
    EXPECT_EQ(DecideRange("bytes=0-1", 10, "\"old\"", "\"abc\"").kind, K::kWhole);
    std::string date = HttpDate(1'700'000'000);
    EXPECT_EQ(DecideRange("bytes=0-1", 10, date, "\"abc\"", date).kind, K::kPartial);
}

TEST(HttpDate, FormatsAndParsesImfFixdate) {
    EXPECT_EQ(HttpDate(784'111'777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784'111'777);
    EXPECT_EQ(ParseHttpDate(HttpDate(1'765'000'000)), 1'765'000'000);
    for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                            "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                            "Sun, 06 Nov 1994 08:49:37 UTC"}) {
        EXPECT_FALSE(ParseHttpDate(bad)) << bad;
    }
}

TEST(NotModified, EtagFirstThenDate) {
    EXPECT_TRUE(NotModified("\"a\"", "", "\"a\"", 100));
    EXPECT_TRUE(NotModified("\"x\", W/\"a\"", "", "\"a\"", 100));
    EXPECT_TRUE(NotModified("*", "", "\"a\"", 100));
    EXPECT_FALSE(NotModified("\"b\"", HttpDate(200), "\"a\"", 100));  // the ETag decides
    EXPECT_TRUE(NotModified("", HttpDate(100), "\"a\"", 100));
    EXPECT_FALSE(NotModified("", HttpDate(99), "\"a\"", 100));
    EXPECT_FALSE(NotModified("", "garbage", "\"a\"", 100));
    EXPECT_FALSE(NotModified("", "", "\"a\"", 100));
}

TEST(ContentDisposition, AsciiFallbackAndRfc8187) {
    EXPECT_EQ(ContentDisposition("report.pdf", false), "inline; filename=\"report.pdf\"");
    EXPECT_EQ(ContentDisposition("page.html", true), "attachment; filename=\"page.html\"");
    EXPECT_EQ(ContentDisposition("\xC3\xA9t\xC3\xA9 1.txt", false),
              "inline; filename=\"_t_ 1.txt\"; filename*=UTF-8''%C3%A9t%C3%A9%201.txt");
    EXPECT_EQ(ContentDisposition("a\"b\\c.txt", true),
              "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt");
}

}  // namespace
}  // namespace tb::http
