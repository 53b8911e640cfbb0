#include "http/framing.h"

#include "common/strings.h"

namespace tb::http {

Status CheckFraming(std::string_view block) {
    int content_length = 0, transfer_encoding = 0, host = 0;
    bool first = true, http11 = false;
    while (!block.empty()) {
        size_t eol = block.find('\n');
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) {  // the request line; the parser checks its shape
            first = false;
            http11 = line.ends_with(" HTTP/1.1");
            continue;
        }
        if (line.empty()) break;  // end of the header block
        if (line.front() == ' ' || line.front() == '\t') {
            return Error::BadRequest("Obsolete line folding is not allowed");
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return Error::BadRequest("Malformed header line");
        }
        std::string_view name = line.substr(0, colon);
        if (name.back() == ' ' || name.back() == '\t') {
            return Error::BadRequest("White space before a header colon is not allowed");
        }
        std::string_view value = Trim(line.substr(colon + 1));
        if (IEquals(name, "content-length")) {
            if (++content_length > 1) return Error::BadRequest("Repeated Content-Length header");
            if (value.empty() || value.size() > 18 ||
                value.find_first_not_of("0123456789") != std::string_view::npos) {
                return Error::BadRequest("Invalid Content-Length header");
            }
        } else if (IEquals(name, "host")) {
            if (++host > 1) return Error::BadRequest("Repeated Host header");
        } else if (IEquals(name, "transfer-encoding")) {
            if (++transfer_encoding > 1)
                return Error::BadRequest("Repeated Transfer-Encoding header");
            if (!IEquals(value, "chunked")) {
                return Error::BadRequest("Unsupported Transfer-Encoding (only chunked)");
            }
        }
    }
    if (content_length && transfer_encoding) {
        return Error::BadRequest("Both Transfer-Encoding and Content-Length");
    }
    if (http11 && host == 0) return Error::BadRequest("An HTTP/1.1 request needs a Host header");
    // HTTP/1.0 has no chunked coding: a proxy would frame such a body otherwise than we do
    // (RFC 9112 §6.1: treat the message as faulty and close).
    if (!http11 && transfer_encoding)
        return Error::BadRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request");
    return {};
}

}  // namespace tb::http
