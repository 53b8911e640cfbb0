// Fuzz target: the mail a server sends (mail/message.h), from fields a client can influence:
// the recipient, the subject, the text and HTML bodies, and the configured sender. The input
// holds them separated by NUL bytes. Beyond "no crash": a message built from checked fields
// has exactly the headers the builder writes, each once, whatever the fields held (no header
// injection), CRLF line ends only, and no line longer than RFC 5322's 998 characters.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuzz_check.h"
#include "mail/message.h"

namespace {

std::vector<std::string_view> Fields(std::string_view input, size_t n) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < n) {
        const size_t nul = input.find('\0');
        if (nul == std::string_view::npos) break;
        out.push_back(input.substr(0, nul));
        input.remove_prefix(nul + 1);
    }
    out.push_back(input);
    out.resize(n);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto f = Fields(std::string_view(reinterpret_cast<const char*>(data), size), 5);
    tb::mail::Mail draft{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                         std::string(f[3])};
    auto mail = tb::mail::CheckMail(std::move(draft));
    if (!mail.ok()) return 0;
    auto sender = tb::mail::ParseSender(f[4].empty() ? "Tenantbase <no-reply@example.com>" : f[4]);
    if (!sender.ok()) return 0;
    const std::string message =
        tb::mail::RenderMessage(*mail, *sender, "01a250b7-e953-71da-91b2-0e131edb5e34",
                                tb::Timestamp{std::chrono::milliseconds(1796650000000)});
    for (size_t i = 0; i < message.size(); ++i) {
        if (message[i] == '\n') tb::FuzzCheck(i > 0 && message[i - 1] == '\r', "a bare LF");
        if (message[i] == '\r')
            tb::FuzzCheck(i + 1 < message.size() && message[i + 1] == '\n', "a bare CR");
    }
    const size_t end = message.find("\r\n\r\n");
    tb::FuzzCheck(end != std::string::npos, "no blank line after the headers");
    std::map<std::string, int> headers;
    size_t at = 0;
    while (at < message.size()) {
        size_t eol = message.find("\r\n", at);
        if (eol == std::string::npos) eol = message.size();
        const std::string_view line(message.data() + at, eol - at);
        tb::FuzzCheck(line.size() <= 998, "a line longer than 998 characters");
        if (at < end && !line.empty() && line[0] != ' ' && line[0] != '\t') {
            const size_t colon = line.find(':');
            tb::FuzzCheck(colon != std::string_view::npos, "a header line without a colon");
            ++headers[std::string(line.substr(0, colon))];
        }
        at = eol + 2;
    }
    const std::map<std::string, int> expected = {
        {"From", 1},       {"To", 1},           {"Subject", 1},     {"Date", 1},
        {"Message-ID", 1}, {"MIME-Version", 1}, {"Content-Type", 1}};
    for (const auto& [name, count] : headers) {
        if (name == "Content-Transfer-Encoding") {
            tb::FuzzCheck(count == 1, "Content-Transfer-Encoding twice");
            continue;
        }
        auto it = expected.find(name);
        tb::FuzzCheck(it != expected.end(), "a header the builder does not write (injection)");
        tb::FuzzCheck(count == it->second, "a header written twice");
    }
    tb::FuzzCheck(headers.size() >= expected.size(), "a header missing");
    return 0;
}
