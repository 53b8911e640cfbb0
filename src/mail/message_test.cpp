#include "mail/message.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>

namespace tb::mail {
namespace {

const Timestamp kDate{std::chrono::milliseconds(1795468532000)};  // 2026-11-23T21:15:32Z

std::string DecodeBase64(const std::string& in) {
    std::string out(in.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    size_t pad = 0;
    for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

Sender DefaultSender() { return ParseSender("Tenantbase <no-reply@localhost>").value(); }

TEST(CheckMail, NormalisesTheRecipientAndNamesTheFailingField) {
    auto ok = CheckMail({" Bob@Example.COM ", "Hi", "text", ""});
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->to, "bob@example.com");

    struct Case {
        Mail mail;
        const char* field;
    } cases[] = {
        {{"not an address", "Hi", "t", ""}, "to"},
        {{"a@b.c\r\nBcc: x@y.z", "Hi", "t", ""}, "to"},
        {{"a@b.c", "", "t", ""}, "subject"},
        {{"a@b.c", "Hi\r\nBcc: x@y.z", "t", ""}, "subject"},
        {{"a@b.c", std::string(501, 'x'), "t", ""}, "subject"},
        {{"a@b.c", "\xff\xfe", "t", ""}, "subject"},
        {{"a@b.c", "Next\xc2\x85line", "t", ""}, "subject"},
        {{"a@b.c", "Hi", "", ""}, "text"},
        {{"a@b.c", "Hi", "\xc3", ""}, "text"},
        {{"a@b.c", "Hi", "", std::string(kMaxBodyBytes + 1, 'x')}, "html"},
    };
    for (const auto& c : cases) {
        auto r = CheckMail(c.mail);
        ASSERT_FALSE(r.ok()) << c.field;
        EXPECT_EQ(r.error().code, ErrorCode::kValidation);
        EXPECT_EQ(r.error().details.at("field"), c.field);
    }
    EXPECT_TRUE(CheckMail({"a@b.c", std::string(500, 'x'), "t", ""}).ok());
}

TEST(ParseSender, AcceptsAnAddressWithOrWithoutAName) {
    auto named = ParseSender("Tenantbase <No-Reply@Example.com>");
    ASSERT_TRUE(named.ok());
    EXPECT_EQ(named->address, "no-reply@example.com");
    EXPECT_EQ(named->header, "Tenantbase <no-reply@example.com>");
    auto bare = ParseSender("ops@example.com");
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(bare->header, "ops@example.com");
    auto unicode = ParseSender("Zoë <z@example.com>");
    ASSERT_TRUE(unicode.ok());
    EXPECT_EQ(unicode->header, "=?UTF-8?B?Wm/Dqw==?= <z@example.com>");
    for (const char* bad : {"", "Name <>", "Name <a@b", "a\r\n@b.c", "Na\nme <a@b.c>"}) {
        EXPECT_FALSE(ParseSender(bad).ok()) << bad;
    }
}

TEST(RenderMessage, WritesHeadersAndASevenBitPartWithCrlfLines) {
    Mail m{"bob@example.com", "Hello", "line 1\nline 2\r\nline 3", ""};
    std::string out = RenderMessage(m, DefaultSender(), "abc", kDate);
    EXPECT_EQ(out.find("From: Tenantbase <no-reply@localhost>\r\n"), 0u);
    EXPECT_NE(out.find("\r\nTo: bob@example.com\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nSubject: Hello\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nDate: Mon, 23 Nov 2026 21:15:32 +0000\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nMessage-ID: <abc@localhost>\r\n"), std::string::npos);
    EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 7bit\r\n\r\n"
                       "line 1\r\nline 2\r\nline 3\r\n"),
              std::string::npos);
    // Every line ends in CRLF: no bare LF or CR anywhere.
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\n') {
            EXPECT_TRUE(i > 0 && out[i - 1] == '\r') << i;
        }
        if (out[i] == '\r') {
            EXPECT_TRUE(i + 1 < out.size() && out[i + 1] == '\n') << i;
        }
    }
}

TEST(RenderMessage, EncodesNonAsciiSubjectsAndBodies) {
    std::string subject = "Grüße aus Köln — ein ziemlich langer Betreff, der umbrochen wird ✓";
    Mail m{"bob@example.com", subject, "Schöne Grüße", ""};
    std::string out = RenderMessage(m, DefaultSender(), "id", kDate);
    // The subject is one or more RFC 2047 words that decode back to the original.
    size_t start = out.find("Subject: ") + 9;
    size_t end = out.find("\r\nDate:");
    std::string header = out.substr(start, end - start);
    std::string decoded;
    for (size_t p = 0; (p = header.find("=?UTF-8?B?", p)) != std::string::npos;) {
        size_t q = header.find("?=", p + 10);
        ASSERT_NE(q, std::string::npos);
        EXPECT_LE(q + 2 - p, 75u);  // RFC 2047's limit on one encoded word
        decoded += DecodeBase64(header.substr(p + 10, q - p - 10));
        p = q + 2;
    }
    EXPECT_EQ(decoded, subject);
    const std::string marker = "Content-Transfer-Encoding: base64\r\n\r\n";
    size_t body = out.find(marker);
    ASSERT_NE(body, std::string::npos);
    std::string encoded = out.substr(body + marker.size());
    encoded = encoded.substr(0, encoded.find("\r\n"));
    EXPECT_EQ(DecodeBase64(encoded), "Schöne Grüße");
}

TEST(RenderMessage, TextAndHtmlMakeAMultipartAlternative) {
    Mail m{"bob@example.com", "Both", "plain", "<p>html</p>"};
    std::string out = RenderMessage(m, DefaultSender(), "id", kDate);
    size_t at = out.find("Content-Type: multipart/alternative; boundary=\"");
    ASSERT_NE(at, std::string::npos);
    size_t b0 = out.find('"', at) + 1;
    std::string boundary = out.substr(b0, out.find('"', b0) - b0);
    size_t first = out.find("--" + boundary + "\r\nContent-Type: text/plain");
    size_t second = out.find("--" + boundary + "\r\nContent-Type: text/html");
    size_t last = out.find("--" + boundary + "--\r\n");
    ASSERT_NE(first, std::string::npos);
    ASSERT_NE(second, std::string::npos);
    ASSERT_NE(last, std::string::npos);
    EXPECT_LT(first, second);
    EXPECT_LT(second, last);
    EXPECT_EQ(out.find("plain", first) < second, true);
    EXPECT_NE(out.find("<p>html</p>", second), std::string::npos);
}

TEST(TokenLink, JoinsBasePathAndToken) {
    EXPECT_EQ(TokenLink("https://app.example.com/", "reset-password", "T0k"),
              "https://app.example.com/reset-password?token=T0k");
    EXPECT_EQ(TokenLink("http://localhost:8080", "verify-email", "x"),
              "http://localhost:8080/verify-email?token=x");
}

}  // namespace
}  // namespace tb::mail
