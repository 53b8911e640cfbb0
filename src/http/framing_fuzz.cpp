// Fuzz target: the framing checks on a raw header block (http/framing.h). Beyond "no crash":
// a block the checks accept has exactly one way to find the body's end, which is what request
// smuggling needs two of: at most one Content-Length, all digits, and never with a
// Transfer-Encoding, which is then exactly "chunked".
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/fuzz_check.h"
#include "http/framing.h"

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A header block ends at its first blank line, as the server cuts it.
    std::string_view block(reinterpret_cast<const char*>(data), size);
    const size_t blank = block.find("\r\n\r\n");
    if (blank == std::string_view::npos) return 0;
    block = block.substr(0, blank + 4);
    // What reaches the checks has passed Beast's request line and line endings: only CRLF
    // pairs, and a request line of a method, a target and HTTP/1.x.
    for (size_t i = 0; i < block.size(); ++i) {
        if (block[i] == '\n' && (i == 0 || block[i - 1] != '\r')) return 0;
        if (block[i] == '\r' && (i + 1 == block.size() || block[i + 1] != '\n')) return 0;
    }
    const std::string_view request_line = block.substr(0, block.find("\r\n"));
    const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos || sp2 == sp1) return 0;
    const std::string_view version = request_line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return 0;
    for (char c : request_line.substr(0, sp1))
        if (!std::isupper(static_cast<unsigned char>(c))) return 0;
    if (!tb::http::CheckFraming(block).ok()) return 0;
    // Accepted: read the header fields the simple way and check there is one framing.
    int lengths = 0, encodings = 0;
    size_t at = block.find("\r\n");
    while (at != std::string_view::npos && at + 2 < block.size()) {
        const size_t end = block.find("\r\n", at + 2);
        if (end == std::string_view::npos) break;
        const std::string_view line = block.substr(at + 2, end - at - 2);
        at = end;
        const size_t colon = line.find(':');
        if (line.empty() || colon == std::string_view::npos) continue;
        const std::string name = Lower(line.substr(0, colon));
        const std::string_view value = Trim(line.substr(colon + 1));
        if (name == "content-length") {
            ++lengths;
            tb::FuzzCheck(!value.empty(), "an empty Content-Length passed");
            for (char c : value)
                tb::FuzzCheck(c >= '0' && c <= '9', "a Content-Length not all digits");
        } else if (name == "transfer-encoding") {
            ++encodings;
            tb::FuzzCheck(Lower(value) == "chunked",
                          "a Transfer-Encoding other than chunked passed");
        }
    }
    tb::FuzzCheck(lengths <= 1, "two Content-Length headers passed");
    tb::FuzzCheck(encodings <= 1, "two Transfer-Encoding headers passed");
    tb::FuzzCheck(lengths == 0 || encodings == 0, "Content-Length with Transfer-Encoding passed");
    return 0;
}
