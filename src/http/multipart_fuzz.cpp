// Fuzz target: multipart/form-data uploads (http/multipart.h): the Content-Type's boundary,
// then the body read part by part. The input is the Content-Type, a newline, then the body.
// Beyond "no crash": the body read in 1-byte pieces gives exactly the parts and contents it
// gives in one piece (the reader's buffering must not change what it finds), and no part's
// content is longer than the body.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuzz_check.h"
#include "http/multipart.h"

namespace {

// The body, handed out at most `piece` bytes a read.
class Pieces final : public tb::ByteSource {
  public:
    Pieces(std::string_view body, size_t piece) : body_(body), piece_(piece) {}
    tb::Task<tb::Result<size_t>> Read(std::span<char> into) override {
        const size_t n = std::min({into.size(), piece_, body_.size()});
        std::memcpy(into.data(), body_.data(), n);
        body_.remove_prefix(n);
        co_return n;
    }

  private:
    std::string_view body_;
    size_t piece_;
};

// What a reader finds: each part's name, filename, type and content; then the error, if any.
std::string ReadAll(std::string_view body, const std::string& boundary, size_t piece) {
    std::string out;
    auto run = [&]() -> tb::Task<void> {
        Pieces source(body, piece);
        tb::http::MultipartReader reader(source, boundary);
        for (int parts = 0; parts < 64; ++parts) {
            auto next = co_await reader.Next();
            if (!next.ok()) {
                out += "error: " + next.error().message;
                co_return;
            }
            if (!*next) co_return;
            const tb::http::PartHeaders& h = **next;
            out += "part " + h.name + "|" + h.filename.value_or("-") + "|" + h.content_type + "\n";
            std::string content;
            char buf[512];
            for (;;) {
                auto n = co_await reader.content().Read(std::span<char>(buf, sizeof buf));
                if (!n.ok()) {
                    out += "error: " + n.error().message;
                    co_return;
                }
                if (*n == 0) break;
                content.append(buf, *n);
            }
            tb::FuzzCheck(content.size() <= body.size(),
                          "a part's content is longer than the body");
            out += content + "\n";
        }
    };
    boost::asio::io_context ioc;
    boost::asio::co_spawn(ioc, run(), boost::asio::detached);
    ioc.run();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    auto boundary = tb::http::MultipartBoundary(input.substr(0, nl));
    if (!boundary.ok()) return 0;
    const std::string_view body = input.substr(nl + 1);
    const std::string whole = ReadAll(body, *boundary, body.size() + 1);
    const std::string bytewise = ReadAll(body, *boundary, 1);
    tb::FuzzCheck(whole == bytewise, "read in 1-byte pieces, the body parses differently");
    return 0;
}
