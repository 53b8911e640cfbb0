#include "mail/message.h"

#include <ctime>

#include "common/email.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tb::mail {

namespace {

bool IsAscii(std::string_view s) {
    for (unsigned char c : s) {
        if (c >= 0x80) return false;
    }
    return true;
}

// C0 controls, DEL and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F).
bool HasControl(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F)
            return true;
    }
    return false;
}

// RFC 2047 encoded words for a non-ASCII header value; each word holds whole UTF-8 sequences
// and stays under the 75-character limit.
std::string EncodeHeaderWords(std::string_view value) {
    std::string out;
    size_t i = 0;
    while (i < value.size()) {
        size_t end = std::min(value.size(), i + 45);  // 45 bytes -> 60 base64 characters
        while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80)
            --end;  // never split a UTF-8 sequence
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + Base64Encode(value.substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string HeaderValue(std::string_view value) {
    return IsAscii(value) ? std::string(value) : EncodeHeaderWords(value);
}

// LF or CRLF line ends become CRLF (SMTP's and RFC 5322's).
std::string CrlfLines(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 40);
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

bool ShortLines(std::string_view text) {
    size_t run = 0;
    for (char c : text) {
        run = (c == '\n' || c == '\r') ? 0 : run + 1;
        if (run > 998) return false;
    }
    return true;
}

// Headers and body of one part.
std::string Part(std::string_view type, std::string_view body) {
    std::string out = "Content-Type: " + std::string(type) + "; charset=utf-8\r\n";
    if (IsAscii(body) && ShortLines(body)) {
        out += "Content-Transfer-Encoding: 7bit\r\n\r\n" + CrlfLines(body);
    } else {
        out += "Content-Transfer-Encoding: base64\r\n\r\n";
        std::string encoded = Base64Encode(body);
        for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

std::string Rfc5322Date(Timestamp t) {
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

}  // namespace

Result<Mail> CheckMail(Mail mail) {
    TB_ASSIGN_OR_RETURN(mail.to, NormalizeEmail(mail.to, "to"));
    if (mail.subject.empty()) return Error::Validation("subject", "Subject is required");
    if (!IsValidUtf8(mail.subject) || HasControl(mail.subject))
        return Error::Validation("subject", "Subject may not contain control characters");
    if (Utf8Length(mail.subject) > kMaxSubjectChars)
        return Error::Validation("subject", "Subject must be at most 500 characters");
    if (mail.text.empty() && mail.html.empty())
        return Error::Validation("text", "A mail needs text or html");
    for (auto [field, body] : {std::pair{"text", &mail.text}, std::pair{"html", &mail.html}}) {
        if (!IsValidUtf8(*body)) return Error::Validation(field, "Must be valid UTF-8");
        if (body->size() > kMaxBodyBytes) return Error::Validation(field, "Must be at most 1 MiB");
    }
    return mail;
}

Result<Sender> ParseSender(std::string_view from) {
    std::string_view trimmed = Trim(from);
    Sender out;
    size_t open = trimmed.rfind('<');
    std::string_view address = trimmed;
    if (open != std::string_view::npos) {
        if (trimmed.back() != '>') return Error::Validation("mail.from", "Invalid sender address");
        address = trimmed.substr(open + 1, trimmed.size() - open - 2);
        if (!IsValidUtf8(trimmed) || HasControl(trimmed))
            return Error::Validation("mail.from", "Invalid sender address");
    }
    auto normal = NormalizeEmail(address, "mail.from");
    if (!normal.ok()) return std::move(normal).error();
    out.address = *normal;
    if (open == std::string_view::npos) {
        out.header = out.address;
    } else {
        std::string_view name = Trim(trimmed.substr(0, open));
        out.header = name.empty() ? out.address : HeaderValue(name) + " <" + out.address + ">";
    }
    return out;
}

std::string RenderMessage(const Mail& mail, const Sender& from, std::string_view id,
                          Timestamp date) {
    std::string domain = from.address.substr(from.address.find('@') + 1);
    std::string out;
    out += "From: " + from.header + "\r\n";
    out += "To: " + mail.to + "\r\n";
    out += "Subject: " + HeaderValue(mail.subject) + "\r\n";
    out += "Date: " + Rfc5322Date(date) + "\r\n";
    out += "Message-ID: <" + std::string(id) + "@" + domain + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    if (!mail.text.empty() && !mail.html.empty()) {
        std::string boundary = "tb-" + RandomToken(18);
        out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
        out += "--" + boundary + "\r\n" + Part("text/plain", mail.text);
        out += "--" + boundary + "\r\n" + Part("text/html", mail.html);
        out += "--" + boundary + "--\r\n";
    } else if (!mail.html.empty()) {
        out += Part("text/html", mail.html);
    } else {
        out += Part("text/plain", mail.text);
    }
    return out;
}

}  // namespace tb::mail

namespace tb::mail {
std::string TokenLink(std::string_view base, std::string_view path, std::string_view token) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    return std::string(base) + "/" + std::string(path) + "?token=" + std::string(token);
}
}  // namespace tb::mail
