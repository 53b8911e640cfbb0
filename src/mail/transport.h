#pragma once
// Where a rendered mail goes: an SMTP server (libcurl), or, with no server configured, one
// `.eml` file per mail in a directory (API.md §13 "Mail defaults"). Deliver blocks: the outbox
// calls it on its worker pool, never on an I/O thread.
//
// Thread safety: Deliver may run on several workers at once; implementations keep no mutable
// state between calls.

#include <string>

namespace tb::mail {

struct Delivery {
    bool ok = false;
    bool permanent = false;  // the server refused for good (5xx): retrying cannot help
    std::string error;       // for the outbox's last_error; never holds credentials
};

struct Envelope {
    std::string id;    // the outbox id, also the file name
    std::string from;  // MAIL FROM address
    std::string to;    // RCPT TO address
};

class Transport {
  public:
    virtual ~Transport() = default;
    virtual Delivery Deliver(const Envelope& envelope, const std::string& message) const = 0;
};

// Writes <dir>/<id>.eml (mode 0600: mails carry sign-in tokens), via a temporary file and a
// rename, so a reader never sees half a mail.
class FileTransport final : public Transport {
  public:
    explicit FileTransport(std::string dir) : dir_(std::move(dir)) {}
    Delivery Deliver(const Envelope& envelope, const std::string& message) const override;

  private:
    std::string dir_;
};

struct SmtpSettings {
    std::string url;  // smtp://host:port (STARTTLS when offered) or smtps://host:port
    std::string username, password;
    bool require_tls = false;  // refuse to send over a connection without TLS
    long timeout_seconds = 30;
};

class SmtpTransport final : public Transport {
  public:
    explicit SmtpTransport(SmtpSettings settings);
    Delivery Deliver(const Envelope& envelope, const std::string& message) const override;

  private:
    SmtpSettings settings_;
};

}  // namespace tb::mail
