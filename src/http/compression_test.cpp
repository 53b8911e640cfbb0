#include "http/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace tb::http {
namespace {

std::string Gunzip(const std::string& gz) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    z.avail_in = static_cast<uInt>(gz.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

TEST(Compression, AcceptEncodingWithQValues) {
    for (std::string_view yes : {"gzip", "GZIP", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*",
                                 "x-gzip", "deflate, *;q=0.1", "gzip;q=1"})
        EXPECT_TRUE(AcceptsGzip(yes)) << yes;
    for (std::string_view no : {"", "identity", "br", "gzip;q=0", "gzip;q=0.0, *", "*;q=0",
                                "deflate, gzip;q=0", "gzip;q=x"})
        EXPECT_FALSE(AcceptsGzip(no)) << no;
}

TEST(Compression, GzipRoundTrips) {
    std::string text;
    for (int i = 0; i < 500; ++i) text += R"({"id":")" + std::to_string(i) + R"(","name":"item"},)";
    for (int level : {1, 4, 9}) {
        auto gz = Gzip(text, level);
        ASSERT_TRUE(gz);
        EXPECT_LT(gz->size(), text.size() / 4);
        EXPECT_EQ(Gunzip(*gz), text);
    }
}

Response JsonOf(size_t size) {
    Response r = Response::Json(200, std::string(size, 'a'));
    r.headers.Add("ETag", "\"7\"");
    return r;
}

Request Asking(std::string_view accept) {
    Request req;
    if (!accept.empty()) req.headers.Add("Accept-Encoding", std::string(accept));
    return req;
}

TEST(Compression, CompressesLargeAnswersForClientsThatAsk) {
    Response r = JsonOf(4096);
    CompressResponse(Asking("gzip"), r);
    EXPECT_EQ(r.headers.Get("content-encoding"), "gzip");
    EXPECT_EQ(r.headers.Get("vary"), "Accept-Encoding");
    EXPECT_EQ(r.headers.Get("etag"), "W/\"7\"");  // no longer the identity bytes
    EXPECT_EQ(Gunzip(r.body), std::string(4096, 'a'));
}

TEST(Compression, LeavesTheRestAlone) {
    Response small = JsonOf(kMinCompressBytes - 1);  // a document by id, health
    CompressResponse(Asking("gzip"), small);
    EXPECT_FALSE(small.headers.Has("content-encoding"));
    EXPECT_FALSE(small.headers.Has("vary"));
    Response unasked = JsonOf(4096);  // the client did not ask: identity, but Vary
    CompressResponse(Asking(""), unasked);
    EXPECT_FALSE(unasked.headers.Has("content-encoding"));
    EXPECT_EQ(unasked.headers.Get("vary"), "Accept-Encoding");
    EXPECT_EQ(unasked.headers.Get("etag"), "\"7\"");
    Response binary;
    binary.headers.Add("Content-Type", "application/octet-stream");
    binary.body = std::string(4096, 'b');
    CompressResponse(Asking("gzip"), binary);
    EXPECT_FALSE(binary.headers.Has("content-encoding"));
}

std::string_view Page() {
    static const std::string kPage(8192, 'p');
    return kPage;
}

TEST(Compression, StaticBodiesCompressedOnce) {
    StaticGzip gzip(Page);
    Response a, b, plain;
    gzip.Serve(Asking("gzip"), a);
    gzip.Serve(Asking("gzip"), b);
    gzip.Serve(Asking(""), plain);
    EXPECT_EQ(a.headers.Get("content-encoding"), "gzip");
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(Gunzip(a.body), Page());
    EXPECT_EQ(plain.body, Page());
    EXPECT_FALSE(plain.headers.Has("content-encoding"));
}

}  // namespace
}  // namespace tb::http
