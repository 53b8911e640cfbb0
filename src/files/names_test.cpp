#include "files/names.h"

#include <gtest/gtest.h>

namespace tb::files {
namespace {

TEST(SanitizeName, StripsPathsControlsAndLeadingDots) {
    EXPECT_EQ(SanitizeName("report.pdf"), "report.pdf");
    EXPECT_EQ(SanitizeName("../../etc/passwd"), "_.._etc_passwd");
    EXPECT_EQ(SanitizeName("..\\..\\boot.ini"), "_.._boot.ini");
    EXPECT_EQ(SanitizeName("a\r\nSet-Cookie: x"), "aSet-Cookie: x");
    EXPECT_EQ(SanitizeName(std::string("nul\0byte", 8)), "nulbyte");
    EXPECT_EQ(SanitizeName(".hidden"), "hidden");
    EXPECT_EQ(SanitizeName("  ..  "), "file");
    EXPECT_EQ(SanitizeName(""), "file");
    EXPECT_EQ(SanitizeName("\x01\x02"), "file");
    EXPECT_EQ(SanitizeName("tab\there"), "tabhere");
}

TEST(SanitizeName, KeepsUtf8AndCutsAtACharacterBoundary) {
    EXPECT_EQ(SanitizeName("\xC3\xA9t\xC3\xA9.txt"), "\xC3\xA9t\xC3\xA9.txt");
    EXPECT_EQ(SanitizeName("bad\xFF.txt"), "bad\xEF\xBF\xBD.txt");
    // U+202E (right-to-left override) would show "exe.txt" as "txt.exe".
    EXPECT_EQ(SanitizeName("invoice\xE2\x80\xAEtxt.exe"), "invoicetxt.exe");
    EXPECT_EQ(SanitizeName("c1\xC2\x85x"), "c1x");
    std::string long_name(254, 'a');
    long_name += "\xC3\xA9\xC3\xA9";  // the first two-byte character straddles byte 255
    std::string cut = SanitizeName(long_name);
    EXPECT_EQ(cut, std::string(254, 'a'));
    EXPECT_EQ(SanitizeName(std::string(300, 'b')).size(), kMaxNameBytes);
}

TEST(ContentTypes, ActiveTypesAndCleaning) {
    for (const char* t : {"text/html", "TEXT/HTML; charset=utf-8", "image/svg+xml", "text/xml",
                          "application/xml", "application/atom+xml", "text/javascript",
                          "application/javascript", "application/xhtml+xml", ""}) {
        EXPECT_TRUE(IsActiveContentType(t)) << t;
    }
    for (const char* t : {"image/png", "text/plain", "application/json", "application/pdf",
                          "application/octet-stream", "video/mp4"}) {
        EXPECT_FALSE(IsActiveContentType(t)) << t;
    }
    EXPECT_EQ(CleanContentType(" image/png "), "image/png");
    EXPECT_EQ(CleanContentType("Text/Plain; Charset=\"UTF-8\""), "text/plain; charset=utf-8");
    EXPECT_EQ(CleanContentType("image/png; name=x; q=1"), "image/png");
    EXPECT_EQ(CleanContentType("nonsense"), "application/octet-stream");
    EXPECT_EQ(CleanContentType("text/\r\nplain"), "application/octet-stream");
    EXPECT_EQ(CleanContentType(""), "application/octet-stream");
    // A list: browsers take its last type, so text/html would slip past the checks.
    EXPECT_EQ(CleanContentType("text/plain, text/html"), "application/octet-stream");
    EXPECT_EQ(CleanContentType("text/plain; charset=a, text/html"), "application/octet-stream");
    EXPECT_EQ(CleanContentType("text/plain; x"), "application/octet-stream");
    EXPECT_EQ(CleanContentType("image/png\x01"), "application/octet-stream");
}

TEST(ContentTypes, OnlyAnAllowListIsShownInPlace) {
    for (const char* t : {"image/png", "image/jpeg; charset=x", "video/mp4", "audio/ogg",
                          "text/plain; charset=utf-8", "application/pdf", "application/json"}) {
        EXPECT_TRUE(IsInlineSafe(t)) << t;
    }
    for (const char* t : {"image/svg+xml", "text/html", "application/octet-stream",
                          "application/zip", "text/markdown", "application/x-unknown", ""}) {
        EXPECT_FALSE(IsInlineSafe(t)) << t;
    }
}

}  // namespace
}  // namespace tb::files
