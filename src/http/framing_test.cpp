#include "http/framing.h"

#include <gtest/gtest.h>

namespace tb::http {
namespace {

Status Check(std::string headers) {
    return CheckFraming("POST /x HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n");
}

TEST(Framing, AcceptsOrdinaryRequests) {
    EXPECT_TRUE(Check("").ok());
    EXPECT_TRUE(Check("Content-Length: 10\r\n").ok());
    EXPECT_TRUE(Check("Transfer-Encoding: chunked\r\n").ok());
    EXPECT_TRUE(Check("transfer-encoding:  Chunked \r\n").ok());
    EXPECT_TRUE(Check("X-Note: a: b\r\n").ok());
}

TEST(Framing, RefusesAmbiguousBodies) {
    EXPECT_FALSE(Check("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n").ok());
    EXPECT_FALSE(Check("Transfer-Encoding: chunked\r\nContent-Length: 1\r\n").ok());
    EXPECT_FALSE(Check("Content-Length: 1\r\nContent-Length: 1\r\n").ok());
    EXPECT_FALSE(Check("Content-Length: 1\r\nContent-Length: 2\r\n").ok());
    for (const char* te :
         {"gzip, chunked", "identity", "chunked, chunked", "xchunked", "chunked;x=1", ""}) {
        EXPECT_FALSE(Check(std::string("Transfer-Encoding: ") + te + "\r\n").ok()) << te;
    }
    EXPECT_FALSE(Check("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n").ok());
    for (const char* cl : {"+5", "-1", "5, 5", "0x10", "", "1 2", "9999999999999999999"}) {
        EXPECT_FALSE(Check(std::string("Content-Length: ") + cl + "\r\n").ok()) << cl;
    }
}

TEST(Framing, RefusesFoldingAndBadLines) {
    EXPECT_FALSE(Check("X-A: 1\r\n  continued\r\n").ok());
    EXPECT_FALSE(Check("X-A: 1\r\n\tcontinued\r\n").ok());
    EXPECT_FALSE(Check("NoColonHere\r\n").ok());
    EXPECT_FALSE(Check("Content-Length : 5\r\n").ok());
    EXPECT_EQ(Check("X-A: 1\r\n continued\r\n").error().code, ErrorCode::kBadRequest);
}

// Issue #20 (RFC 9112 §3.2): exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
TEST(Framing, NeedsExactlyOneHost) {
    EXPECT_FALSE(CheckFraming("GET / HTTP/1.1\r\n\r\n").ok());
    EXPECT_FALSE(CheckFraming("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n").ok());
    EXPECT_FALSE(Check("Host: b\r\n").ok());
    EXPECT_FALSE(Check("host: a\r\n").ok());
    EXPECT_TRUE(CheckFraming("GET / HTTP/1.0\r\n\r\n").ok());
    EXPECT_FALSE(CheckFraming("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n").ok());
    EXPECT_TRUE(CheckFraming("GET / HTTP/1.1\r\nHOST: a\r\n\r\n").ok());
}

// Issue #29: HTTP/1.0 has no chunked coding; a 1.0 message with Transfer-Encoding is a
// smuggling vector behind a proxy (RFC 9112 §6.1).
TEST(Framing, RefusesTransferEncodingInHttp10) {
    EXPECT_FALSE(CheckFraming("POST /x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                              "Connection: keep-alive\r\n\r\n")
                     .ok());
    EXPECT_TRUE(CheckFraming("POST /x HTTP/1.0\r\nHost: a\r\nContent-Length: 2\r\n\r\n").ok());
    EXPECT_TRUE(
        CheckFraming("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").ok());
}

}  // namespace
}  // namespace tb::http
