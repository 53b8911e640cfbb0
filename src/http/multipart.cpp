#include "http/multipart.h"

#include <algorithm>

#include <boost/url/pct_string_view.hpp>

#include "common/strings.h"

namespace tb::http {

namespace {

constexpr size_t kFillBytes = size_t{64} * 1024;

Error Malformed(std::string_view what) {
    return Error::BadRequest("Malformed multipart body: " + std::string(what));
}

bool IsBoundaryChar(char c) {
    // RFC 2046 bcharsnospace, and space inside.
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// One `;`-separated parameter list of a header value: name=token or name="quoted".
struct Param {
    std::string name, value;
};

Result<std::vector<Param>> ParseParams(std::string_view s) {
    std::vector<Param> out;
    while (true) {
        s = Trim(s);
        if (s.empty()) return out;
        if (s.front() != ';') return Malformed("bad parameter list in a part header");
        s = Trim(s.substr(1));
        if (s.empty()) return out;
        size_t eq = s.find('=');
        if (eq == std::string_view::npos) return Malformed("a parameter without a value");
        Param p{ToLower(Trim(s.substr(0, eq))), {}};
        s = Trim(s.substr(eq + 1));
        if (!s.empty() && s.front() == '"') {
            size_t i = 1;
            bool closed = false;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    p.value += s[++i];
                } else if (s[i] == '"') {
                    closed = true;
                    break;
                } else {
                    p.value += s[i];
                }
            }
            if (!closed) return Malformed("an unterminated quoted parameter");
            s.remove_prefix(i + 1);
        } else {
            size_t end = s.find(';');
            p.value = std::string(Trim(s.substr(0, end)));
            s = end == std::string_view::npos ? std::string_view() : s.substr(end);
        }
        out.push_back(std::move(p));
    }
}

// RFC 8187 ext-value: charset'language'percent-encoded; only UTF-8 is taken. The escapes are
// decoded by Boost.URL, as the request path's are (http/target.cpp).
std::optional<std::string> DecodeExtValue(std::string_view v) {
    size_t q1 = v.find('\'');
    if (q1 == std::string_view::npos) return std::nullopt;
    size_t q2 = v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos || !IEquals(v.substr(0, q1), "utf-8")) return std::nullopt;
    auto encoded = boost::urls::make_pct_string_view(v.substr(q2 + 1));
    if (!encoded) return std::nullopt;
    return encoded->decode();
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
    size_t semi = content_type.find(';');
    if (!IEquals(Trim(content_type.substr(0, semi)), "multipart/form-data"))
        return Error::UnsupportedMediaType("Content-Type must be multipart/form-data");
    if (semi == std::string_view::npos) return Malformed("the Content-Type names no boundary");
    TB_ASSIGN_OR_RETURN(auto params, ParseParams(content_type.substr(semi)));
    for (const Param& p : params) {
        if (p.name != "boundary") continue;
        const std::string& b = p.value;
        bool ok = !b.empty() && b.size() <= 70 && b.back() != ' ' &&
                  std::all_of(b.begin(), b.end(), IsBoundaryChar);
        if (!ok) return Malformed("the boundary must be 1 to 70 letters, digits or '()+_,-./:=?");
        return b;
    }
    return Malformed("the Content-Type names no boundary");
}

Result<PartHeaders> ParsePartHeaders(std::string_view block) {
    PartHeaders out;
    bool disposition = false;
    while (!block.empty()) {
        size_t end = block.find("\r\n");
        std::string_view line = block.substr(0, end);
        block = end == std::string_view::npos ? std::string_view() : block.substr(end + 2);
        if (line.empty()) continue;
        if (line.front() == ' ' || line.front() == '\t')
            return Malformed("folded part header lines are not allowed");
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            return Malformed("a part header line without a name");
        std::string_view name = line.substr(0, colon), value = Trim(line.substr(colon + 1));
        for (char c : line) {
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return Malformed("control characters in a part header");
        }
        if (IEquals(name, "content-disposition")) {
            if (disposition) return Malformed("two Content-Disposition headers in a part");
            disposition = true;
            size_t semi = value.find(';');
            if (!IEquals(Trim(value.substr(0, semi)), "form-data"))
                return Malformed("a part's Content-Disposition must be form-data");
            if (semi == std::string_view::npos) return Malformed("a part without a name");
            TB_ASSIGN_OR_RETURN(auto params, ParseParams(value.substr(semi)));
            std::optional<std::string> ext;
            bool named = false;
            for (Param& p : params) {
                if (p.name == "name") {
                    out.name = std::move(p.value);
                    named = true;
                } else if (p.name == "filename") {
                    out.filename = std::move(p.value);
                } else if (p.name == "filename*") {
                    ext = DecodeExtValue(p.value);
                    if (!ext) return Malformed("filename* must be UTF-8''percent-encoded");
                }
            }
            if (!named) return Malformed("a part without a name");
            if (ext) out.filename = std::move(*ext);
        } else if (IEquals(name, "content-type")) {
            out.content_type = std::string(value);
        }
    }
    if (!disposition) return Malformed("a part without Content-Disposition");
    if (out.content_type.empty()) out.content_type = "application/octet-stream";
    return out;
}

MultipartReader::MultipartReader(ByteSource& body, std::string boundary)
    : body_(body), delimiter_("\r\n--" + std::move(boundary)) {}

Task<Result<bool>> MultipartReader::Fill() {
    if (eof_) co_return false;
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    size_t old = buf_.size();
    buf_.resize(old + kFillBytes);
    auto n = co_await body_.Read(std::span<char>(buf_.data() + old, kFillBytes));
    if (!n.ok()) {
        buf_.resize(old);
        co_return std::move(n).error();
    }
    buf_.resize(old + *n);
    if (*n == 0) eof_ = true;
    co_return *n > 0;
}

Task<Status> MultipartReader::Want(size_t n) {
    while (Buffered().size() < n) {
        TB_CO_ASSIGN_OR_RETURN(bool more, co_await Fill());
        if (!more) break;
    }
    co_return Status{};
}

Task<Status> MultipartReader::ReadDelimiterTail() {
    TB_CO_RETURN_IF_ERROR(co_await Want(2));
    if (Buffered().starts_with("--")) {
        pos_ += 2;
        state_ = State::kEnd;
        // The epilogue is ignored: read to the end, so the connection stays usable.
        pos_ = buf_.size();
        while (true) {
            TB_CO_ASSIGN_OR_RETURN(bool more, co_await Fill());
            pos_ = buf_.size();
            if (!more) break;
        }
        co_return Status{};
    }
    // Transport padding, then CRLF.
    for (size_t padding = 0;; ++padding) {
        TB_CO_RETURN_IF_ERROR(co_await Want(2));
        std::string_view b = Buffered();
        if (b.empty()) co_return Malformed("the body ends after a delimiter");
        if (b.front() == ' ' || b.front() == '\t') {
            if (padding >= 1024) co_return Malformed("a delimiter padded too long");
            ++pos_;
            continue;
        }
        if (!b.starts_with("\r\n")) co_return Malformed("a delimiter must end its line");
        pos_ += 2;
        state_ = State::kHeaders;
        co_return Status{};
    }
}

Task<Result<PartHeaders>> MultipartReader::ReadHeaders() {
    // The block ends with an empty line; a part with no headers at all starts with one.
    size_t end = std::string_view::npos;
    while (true) {
        std::string_view b = Buffered();
        if (b.starts_with("\r\n")) {
            end = 0;
            break;
        }
        end = b.find("\r\n\r\n");
        if (end != std::string_view::npos) {
            end += 2;
            break;
        }
        if (b.size() > kMaxPartHeaderBytes) co_return Malformed("part headers over 8 KiB");
        TB_CO_ASSIGN_OR_RETURN(bool more, co_await Fill());
        if (!more) co_return Malformed("the body ends inside a part's headers");
    }
    if (end > kMaxPartHeaderBytes) co_return Malformed("part headers over 8 KiB");
    auto parsed = ParsePartHeaders(Buffered().substr(0, end));
    pos_ += end + 2;
    if (parsed.ok()) state_ = State::kContent;
    co_return parsed;
}

Task<Result<std::optional<PartHeaders>>> MultipartReader::Next() {
    if (state_ == State::kStart) {
        // Blank lines may precede the first delimiter; it has no CRLF of its own before it.
        std::string_view first = std::string_view(delimiter_).substr(2);
        for (size_t blank = 0;; ++blank) {
            TB_CO_RETURN_IF_ERROR(co_await Want(first.size()));
            if (Buffered().starts_with("\r\n") && blank < 512) {
                pos_ += 2;
                continue;
            }
            break;
        }
        if (!Buffered().starts_with(first))
            co_return Malformed("the body does not start with the boundary");
        pos_ += first.size();
        state_ = State::kAfterDelimiter;
    }
    if (state_ == State::kContent) {
        char skip[16 * 1024];
        while (true) {
            TB_CO_ASSIGN_OR_RETURN(size_t n, co_await ReadContent(skip));
            if (n == 0) break;
        }
    }
    if (state_ == State::kAfterDelimiter) TB_CO_RETURN_IF_ERROR(co_await ReadDelimiterTail());
    if (state_ == State::kEnd) co_return std::nullopt;
    TB_CO_ASSIGN_OR_RETURN(PartHeaders h, co_await ReadHeaders());
    co_return std::optional<PartHeaders>(std::move(h));
}

Task<Result<size_t>> MultipartReader::ReadContent(std::span<char> into) {
    if (state_ != State::kContent || into.empty()) co_return size_t{0};
    while (true) {
        std::string_view b = Buffered();
        size_t at = b.find(delimiter_);
        if (at == 0) {
            pos_ += delimiter_.size();
            state_ = State::kAfterDelimiter;
            co_return size_t{0};
        }
        // Bytes that cannot begin a delimiter: before one found, else all but a tail that
        // might be the start of one still arriving.
        size_t safe = at != std::string_view::npos    ? at
                      : b.size() >= delimiter_.size() ? b.size() - (delimiter_.size() - 1)
                                                      : 0;
        if (safe > 0) {
            size_t n = std::min(safe, into.size());
            std::copy_n(b.data(), n, into.data());
            pos_ += n;
            co_return n;
        }
        TB_CO_ASSIGN_OR_RETURN(bool more, co_await Fill());
        if (!more) co_return Malformed("the body ends inside a part (no closing boundary)");
    }
}

}  // namespace tb::http
