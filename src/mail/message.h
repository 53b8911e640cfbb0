#pragma once
// One mail as the outbox keeps it and as it goes over the wire: checked fields, and the RFC 5322
// text (MIME, UTF-8) built from them. Header injection is impossible by construction: the
// recipient is a normalised address and the subject may not hold control characters.

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace tb::mail {

struct Mail {
    std::string to;  // one normalised address
    std::string subject;
    std::string text;  // either or both of text and html
    std::string html;
};

// A `From` header value split into what SMTP needs: "Name <addr@host>" or "addr@host".
struct Sender {
    std::string header;   // as written in the From header
    std::string address;  // for MAIL FROM
};

constexpr size_t kMaxSubjectChars = 500;
constexpr size_t kMaxBodyBytes = size_t{1024} * 1024;

// Normalises `to` and checks every field (VALIDATION_ERROR naming it).
Result<Mail> CheckMail(Mail mail);
// Parses `mail.from`; VALIDATION_ERROR on field "mail.from" when it is not an address.
Result<Sender> ParseSender(std::string_view from);

// The whole message with CRLF line ends: From, To, Subject (RFC 2047 when not ASCII), Date,
// Message-ID <id@sender-domain>, MIME-Version, and one text/plain or text/html part, or a
// multipart/alternative of both. A part is 7bit when it is ASCII with short lines, otherwise
// base64.
std::string RenderMessage(const Mail& mail, const Sender& from, std::string_view id,
                          Timestamp date);

}  // namespace tb::mail

namespace tb::mail {
// <base>/<path>?token=<token> (API.md §13: account mails carry their token this way).
std::string TokenLink(std::string_view base, std::string_view path, std::string_view token);
}  // namespace tb::mail
