#pragma once
// A streaming reader of multipart/form-data bodies (RFC 7578 over RFC 2046 §5.1.1): the parts
// one after another, each part's content read in pieces, so that an upload of any size passes
// through a fixed buffer. No Debian package offers a parser that fits (libmicrohttpd's needs
// its own connections, GMime buffers parts), hence this one, kept small and strict:
//  - the body starts with the delimiter (a preamble other than blank lines is refused);
//  - each part has a header block of at most 8 KiB, with no folded lines, and a
//    `Content-Disposition: form-data` naming it;
//  - a delimiter is CRLF "--" boundary, then "--" (the end) or optional blanks and CRLF;
//    the same characters anywhere else are data;
//  - a body that ends before the closing delimiter is refused.
// Every refusal is a 400 BAD_REQUEST naming what was wrong.

#include <optional>
#include <string>
#include <string_view>

#include "common/byte_source.h"
#include "common/result.h"

namespace tb::http {

struct PartHeaders {
    std::string name;                     // Content-Disposition's name
    std::optional<std::string> filename;  // its filename (filename* decoded when given)
    std::string content_type;             // "application/octet-stream" when absent
};

// The boundary of a `multipart/form-data; boundary=…` Content-Type (RFC 2046: 1 to 70
// characters); 400 when the type is not that or the boundary is missing or malformed.
Result<std::string> MultipartBoundary(std::string_view content_type);

class MultipartReader {
  public:
    static constexpr size_t kMaxPartHeaderBytes = size_t{8} * 1024;

    MultipartReader(ByteSource& body, std::string boundary);

    // The next part's headers (the rest of the current part's content is skipped), or nullopt
    // once the closing delimiter has been read.
    Task<Result<std::optional<PartHeaders>>> Next();

    // The current part's content: 0 at its end. Valid until the next call of Next.
    ByteSource& content() { return content_; }

  private:
    class Content final : public ByteSource {
      public:
        explicit Content(MultipartReader& r) : r_(r) {}
        Task<Result<size_t>> Read(std::span<char> into) override { return r_.ReadContent(into); }

      private:
        MultipartReader& r_;
    };
    enum class State { kStart, kHeaders, kContent, kAfterDelimiter, kEnd };

    Task<Result<size_t>> ReadContent(std::span<char> into);
    // Reads more of the body into the buffer; false at the body's end.
    Task<Result<bool>> Fill();
    // Ensures `n` bytes past pos_ (fewer only at the body's end).
    Task<Status> Want(size_t n);
    // After a delimiter: "--" (the end), or blanks and CRLF (a part follows).
    Task<Status> ReadDelimiterTail();
    Task<Result<PartHeaders>> ReadHeaders();
    std::string_view Buffered() const { return std::string_view(buf_).substr(pos_); }

    ByteSource& body_;
    std::string delimiter_;  // "\r\n--" + boundary
    std::string buf_;
    size_t pos_ = 0;
    bool eof_ = false;
    State state_ = State::kStart;
    Content content_{*this};
};

// Content-Disposition parameters of a part header (exposed for the unit tests).
Result<PartHeaders> ParsePartHeaders(std::string_view block);

}  // namespace tb::http
