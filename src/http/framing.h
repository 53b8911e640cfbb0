#pragma once
// HTTP/1.1 framing checks on the raw header block, made by our code before the parser sees it
// (request smuggling behind a proxy starts with ambiguous framing). A request is refused when
//   1. it has both Transfer-Encoding and Content-Length;
//   2. its Transfer-Encoding is anything but exactly "chunked" (one header, one coding);
//   3. it has more than one Content-Length header, or one that is not plain digits;
//   4. a header line is folded (starts with a space or tab: obsolete line folding);
//   5. a header line has no colon, or white space before the colon;
//   6. it has more than one Host header, or none in an HTTP/1.1 request (RFC 9112 §3.2);
//   7. it is HTTP/1.0 (or older) with a Transfer-Encoding (RFC 9112 §6.1).

#include <string_view>

#include "common/result.h"

namespace tb::http {

// header_block: from the request line up to and including the blank line.
Status CheckFraming(std::string_view header_block);

}  // namespace tb::http
