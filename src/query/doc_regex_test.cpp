#include "query/doc_regex.h"

#include <gtest/gtest.h>

namespace tb::query {
namespace {

std::string Canon(std::string_view p) {
    auto r = CanonicalRegex(p);
    return r.ok() ? *r : "ERROR";
}

// Found by regex_fuzz: \w expanded to an unescaped `_`, which a second pass escaped, and a
// space in a class came out as `\ `, which a second pass refused; a canonical pattern now
// canonicalises to itself.
TEST(CanonicalRegex, IsIdempotent) {
    for (const char* p : {"\\w+\\s\\.[^\\n]{3}", "(?i)^ab[c-f]+\\d{2,5}(x|y)*?$", "[\\w\\s-]"}) {
        const std::string once = Canon(p);
        ASSERT_NE(once, "ERROR") << p;
        EXPECT_EQ(Canon(once), once) << p;
    }
}

TEST(CanonicalRegex, SpellsOutClassesAndDots) {
    EXPECT_EQ(Canon("a.c"), "a[^\\n]c");
    EXPECT_EQ(Canon("^\\d+$"), "^[0-9]+$");
    EXPECT_EQ(Canon("\\W\\s"), "[^0-9A-Za-z\\_][\\t\\n\\f\\r ]");
    EXPECT_EQ(Canon("[a-c\\d_]"), "[a-c0-9\\_]");
    EXPECT_EQ(Canon("[^\\]x]"), "[^\\]x]");
    EXPECT_EQ(Canon("(ab|cd){2,3}?x*"), "(?:ab|cd){2,3}?x*");
    EXPECT_EQ(Canon("a\\.b-c"), "a\\.b\\-c");
    EXPECT_EQ(Canon("日本.?"), "日本[^\\n]?");
}

TEST(CanonicalRegex, FoldsAsciiLettersUnderLeadingI) {
    EXPECT_EQ(Canon("(?i)ab1"), "[aA][bB]1");
    EXPECT_EQ(Canon("(?i)[a-c]"), "[a-cA-C]");
    EXPECT_EQ(Canon("(?i)[x-Z]"), "ERROR");  // out of order
    EXPECT_EQ(Canon("(?i)é"), "é");
}

TEST(CanonicalRegex, RefusesWhatTheBackendsDisagreeOnOrCannotBound) {
    for (const char* bad :
         {"(a)\\1", "(?=a)", "a(?i)b", "(?s).", "\\bword", "\\pL", "[[:alpha:]]", "a{1,101}",
          "(?:a{1,100}){1,100}", "*a", "a**", "(a", "a)", "[abc", "\\", "^*", "a{x}"}) {
        EXPECT_FALSE(CanonicalRegex(bad).ok()) << bad;
    }
    EXPECT_FALSE(CanonicalRegex(std::string(513, 'a')).ok());
    std::string big;
    for (int i = 0; i < 8; ++i) big += "\\w{100}";
    EXPECT_FALSE(CanonicalRegex(big).ok()) << "program size";
    EXPECT_FALSE(CanonicalRegex("\xff").ok());
}

}  // namespace
}  // namespace tb::query
