#include "http/multipart.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace tb::http {
namespace {

// A body handed out `piece` bytes at a time (1: every byte boundary is a read boundary).
class PieceSource final : public ByteSource {
  public:
    PieceSource(std::string data, size_t piece) : data_(std::move(data)), piece_(piece) {}
    Task<Result<size_t>> Read(std::span<char> into) override {
        size_t n = std::min({piece_, into.size(), data_.size() - pos_});
        std::copy_n(data_.data() + pos_, n, into.data());
        pos_ += n;
        co_return n;
    }

  private:
    std::string data_;
    size_t piece_, pos_ = 0;
};

struct Part {
    PartHeaders headers;
    std::string content;
};

// Every part of `body`, or the error; read with reads of `piece` bytes.
Result<std::vector<Part>> ReadAll(const std::string& body, size_t piece,
                                  const std::string& boundary = "XyZ") {
    boost::asio::io_context ioc;
    std::optional<Result<std::vector<Part>>> out;
    auto run = [&]() -> Task<void> {
        PieceSource src(body, piece);
        MultipartReader reader(src, boundary);
        std::vector<Part> parts;
        while (true) {
            auto next = co_await reader.Next();
            if (!next.ok()) {
                out.emplace(std::move(next).error());
                co_return;
            }
            if (!*next) break;
            Part p{std::move(**next), {}};
            char buf[5];  // small reads: a delimiter straddles them
            while (true) {
                auto n = co_await reader.content().Read(buf);
                if (!n.ok()) {
                    out.emplace(std::move(n).error());
                    co_return;
                }
                if (*n == 0) break;
                p.content.append(buf, *n);
            }
            parts.push_back(std::move(p));
        }
        out.emplace(std::move(parts));
    };
    boost::asio::co_spawn(ioc, run(), boost::asio::detached);
    ioc.run();
    return std::move(*out);
}

std::string FilePart(const std::string& filename, const std::string& content,
                     const std::string& type = "text/plain") {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
           "\"\r\nContent-Type: " + type + "\r\n\r\n" + content + "\r\n";
}

void ExpectMalformed(const std::string& body, const std::string& why) {
    for (size_t piece : {size_t{1}, size_t{3}, size_t{1} << 20}) {
        auto r = ReadAll(body, piece);
        ASSERT_FALSE(r.ok()) << why << " (pieces of " << piece << ")";
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << why;
        EXPECT_NE(r.error().message.find("Malformed multipart"), std::string::npos)
            << r.error().message;
    }
}

TEST(MultipartBoundary, ReadsTheParameterAndRefusesBadOnes) {
    EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc").value(), "abc");
    EXPECT_EQ(MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\"").value(), "a b:c");
    EXPECT_EQ(MultipartBoundary("multipart/form-data; charset=x; boundary=q-1").value(), "q-1");
    EXPECT_EQ(MultipartBoundary("application/json").error().code, ErrorCode::kUnsupportedMediaType);
    for (const char* bad :
         {"multipart/form-data", "multipart/form-data; boundary=",
          "multipart/form-data; boundary=\"trailing \"", "multipart/form-data; boundary=a\x01z",
          "multipart/form-data; charset=utf-8", "multipart/form-data; boundary=\"unterminated"}) {
        EXPECT_EQ(MultipartBoundary(bad).error().code, ErrorCode::kBadRequest) << bad;
    }
    EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
    EXPECT_TRUE(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'a')).ok());
}

TEST(Multipart, PartsRoundTripEveryByteAtEveryReadBoundary) {
    std::string every;
    for (int i = 0; i < 256; ++i) every += static_cast<char>(i);
    // Data that looks like the delimiter but is not one: the boundary without the CRLF
    // before it (at the very start of the content too), a cut-short one, a lone CR.
    std::string lookalike = "--XyZ\r\n x--XyZ--\r\n--Xy\r\r\n-\r";
    std::string body = "\r\n" + FilePart("a.bin", every, "application/octet-stream") +
                       FilePart("b.txt", lookalike) +
                       "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n" +
                       FilePart("empty", "") + "--XyZ--\r\nepilogue is ignored";
    for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{1} << 20}) {
        auto parts = ReadAll(body, piece);
        ASSERT_TRUE(parts.ok()) << parts.error().message;
        ASSERT_EQ(parts->size(), 4u);
        EXPECT_EQ((*parts)[0].content, every);
        EXPECT_EQ((*parts)[0].headers.filename, "a.bin");
        EXPECT_EQ((*parts)[0].headers.content_type, "application/octet-stream");
        EXPECT_EQ((*parts)[1].content, lookalike);
        EXPECT_EQ((*parts)[2].headers.name, "note");
        EXPECT_FALSE((*parts)[2].headers.filename);
        EXPECT_EQ((*parts)[2].headers.content_type, "application/octet-stream");
        EXPECT_EQ((*parts)[2].content, "hi");
        EXPECT_EQ((*parts)[3].content, "");
    }
}

TEST(Multipart, SkippingAPartUnreadStillFindsTheNext) {
    std::string body = FilePart("a", std::string(200'000, 'a')) + FilePart("b", "bee") + "--XyZ--";
    boost::asio::io_context ioc;
    std::vector<std::string> names;
    auto run = [&]() -> Task<void> {
        PieceSource src(body, 1000);
        MultipartReader reader(src, "XyZ");
        while (true) {
            auto next = co_await reader.Next();
            if (!next.ok() || !*next) break;
            names.push_back(*(*next)->filename);
        }
    };
    boost::asio::co_spawn(ioc, run(), boost::asio::detached);
    ioc.run();
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
}

TEST(Multipart, TransportPaddingAfterADelimiterIsAllowed) {
    auto parts =
        ReadAll("--XyZ \t\r\nContent-Disposition: form-data; name=file\r\n\r\nx\r\n--XyZ--", 1);
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    EXPECT_EQ((*parts)[0].content, "x");
}

TEST(Multipart, FilenameStarIsDecodedAndWins) {
    auto h = ParsePartHeaders(
        "Content-Disposition: form-data; name=\"file\"; filename=\"fallback.txt\"; "
        "filename*=UTF-8''%C3%A9t%C3%A9%20%E2%82%AC.txt\r\n");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->filename, "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC.txt");
    EXPECT_FALSE(
        ParsePartHeaders("Content-Disposition: form-data; name=f; filename*=latin1''x\r\n").ok());
    EXPECT_FALSE(
        ParsePartHeaders("Content-Disposition: form-data; name=f; filename*=UTF-8''bad%ZZ\r\n")
            .ok());
    EXPECT_FALSE(
        ParsePartHeaders("Content-Disposition: form-data; name=f; filename*=UTF-8''cut%4\r\n")
            .ok());
    auto quoted = ParsePartHeaders(
        "content-disposition: form-data; name=\"file\"; filename=\"a\\\"b;c.txt\"\r\n");
    ASSERT_TRUE(quoted.ok());
    EXPECT_EQ(quoted->filename, "a\"b;c.txt");
}

TEST(Multipart, MalformedBodiesAreRefused) {
    ExpectMalformed("", "empty body");
    ExpectMalformed("preamble\r\n" + FilePart("a", "x") + "--XyZ--", "a preamble");
    ExpectMalformed(FilePart("a", "x"), "no closing delimiter");
    ExpectMalformed(FilePart("a", "truncated"), "truncated part");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
                    "truncated content");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; name=\"fi", "truncated headers");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--XyZ--",
                    "a part without a name");
    ExpectMalformed("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
                    "a part without Content-Disposition");
    ExpectMalformed("--XyZ\r\n\r\nx\r\n--XyZ--", "a part without headers");
    ExpectMalformed("--XyZ\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n--XyZ--",
                    "not form-data");
    ExpectMalformed(
        "--XyZ\r\nContent-Disposition: form-data;\r\n name=\"file\"\r\n\r\nx\r\n--XyZ--",
        "header folding");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Big: " +
                        std::string(9000, 'a') + "\r\n\r\nx\r\n--XyZ--",
                    "oversize part headers");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nX: a\x01" +
                        std::string("\r\n\r\nx\r\n--XyZ--"),
                    "control characters in a header");
    ExpectMalformed("--XyZjunk\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n--XyZ--",
                    "a delimiter not ending its line");
    ExpectMalformed("--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n--XyZ",
                    "the body ends after a delimiter");
}

}  // namespace
}  // namespace tb::http
