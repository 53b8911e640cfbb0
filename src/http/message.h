#pragma once
// Our own request and response types: what handlers above http/ see instead of Beast's.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/byte_source.h"

namespace tb::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view MethodName(Method m);
Method ParseMethod(std::string_view text);

struct Header {
    std::string name;
    std::string value;
};

class Headers {
  public:
    // The first value of a header (case-insensitive name), or "" when absent.
    std::string_view Get(std::string_view name) const;
    bool Has(std::string_view name) const;
    void Add(std::string name, std::string value) {
        items_.push_back({std::move(name), std::move(value)});
    }
    void Reserve(size_t n) { items_.reserve(n); }
    // Replaces every header of that name.
    void Set(std::string_view name, std::string value);
    const std::vector<Header>& items() const { return items_; }

  private:
    std::vector<Header> items_;
};

struct Request {
    Method method = Method::kGet;
    std::string method_text;  // as sent
    std::string target;       // as sent: path and query
    std::string path;         // percent-decoded segments joined by '/'
    std::vector<std::string> segments;
    std::string query;  // raw query string, without '?'
    Headers headers;
    std::string body;
    std::string remote_ip;
    bool keep_alive = true;
    // On a streamed route (BodyKind::kStream) the body is not read before the handler runs:
    // the handler reads it from here, in pieces (body stays empty). Null on other routes.
    // A body left unread ends the connection after the response.
    ByteSource* body_stream = nullptr;
    // The body bytes read so far (both kinds), for metering.
    uint64_t body_bytes() const { return body_stream ? streamed_bytes : body.size(); }
    uint64_t streamed_bytes = 0;  // set by the server as body_stream is read
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;
    bool close = false;  // close the connection after this response
    // X-RateLimit-Limit, -Remaining and -Reset (API.md §1.3), and X-RateLimit-Tenant-* when
    // the tenant's budget was charged too (tenant_limit > 0): numbers the serializer writes,
    // so that a rate-limited answer builds no header strings.
    struct RateLimit {
        int64_t limit = 0, remaining = 0, reset = 0;
        int64_t tenant_limit = 0, tenant_remaining = 0;
    };
    std::optional<RateLimit> rate_limit;
    // `Cache-Control: no-store`, written by the serializer: an answer to a request with
    // credentials, unless the handler chose a Cache-Control of its own (pipeline Finish).
    bool no_store = false;
    // A refusal for want of rights (a 403, or a 404 hiding another tenant's data): the layer
    // above audits it (issue #29). Not sent.
    bool access_denied = false;

    // A body sent in pieces after the header (a stored file): `stream_size` bytes read from
    // `stream`, never held whole; `body` stays empty. If the stream fails part-way the
    // connection is closed (the client sees a short body).
    //
    // stream_size kOpenEnded: an event stream (text/event-stream), written piece by piece as
    // the source yields them until it ends (Read gives 0) or the client goes; no
    // Content-Length, and the connection closes after it.
    static constexpr uint64_t kOpenEnded = ~uint64_t{0};
    std::shared_ptr<ByteSource> stream;
    uint64_t stream_size = 0;
    bool open_ended() const { return stream && stream_size == kOpenEnded; }
    uint64_t body_bytes() const {  // an event stream's is unknown: 0
        return stream ? (stream_size == kOpenEnded ? 0 : stream_size) : body.size();
    }

    static Response Json(int status, std::string body);
    static Response Text(int status, std::string body);
    static Response Empty(int status);
};

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

}  // namespace tb::http
