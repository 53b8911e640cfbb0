#pragma once
// The HTTP/1.1 server: Beast over Asio, one coroutine per connection, keep-alive, limits and
// timeouts, optional TLS, graceful shutdown. Requests go through the Pipeline.
//
// Timeouts: a new connection must send its first request's header within header_timeout;
// idle_timeout waits for the first byte of a later request on a kept-alive connection, and
// header_timeout bounds the whole header block from then on (a slow-loris client that
// trickles bytes is dropped when it passes); body_timeout bounds reading the body and writing
// the response. A connection records its deadline; a sweeper on each I/O context cancels the
// sockets past theirs every 250 ms (cheaper than arming a timer for every read and write, at
// the price of up to 250 ms of lateness).
//
// Threads: one io_context per I/O thread; the acceptor runs on the first and hands each new
// connection to the next context in turn, where it stays, so a connection needs no strand.
// Shutdown may be called from any thread.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "http/client_ip.h"
#include "http/pipeline.h"

namespace tb::http {

struct ServerOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8080;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    size_t max_header_bytes = size_t{16} * 1024;
    std::string tls_cert;  // PEM files; TLS is on when both are set
    std::string tls_key;
    // Open connections at most, in all and per client address (issue #29: one address held
    // 300 idle ones). Past either, a new connection gets a 503 and is closed before anything
    // is read. Peers in trusted_proxies carry many clients: no per-address cap for them.
    size_t max_connections = 10'000;
    size_t max_connections_per_ip = 256;
    TrustedProxies trusted_proxies;
};

class Server {
  public:
    // contexts: at least one; contexts[0] also runs the acceptor.
    Server(std::vector<boost::asio::io_context*> contexts, ServerOptions options,
           Pipeline& pipeline);
    ~Server();

    // Binds and listens; an error names the address when it is taken or invalid.
    Status Listen();
    uint16_t port() const { return bound_port_; }
    void Start();
    // Stops accepting at once, closes idle connections, lets requests in flight finish
    // (their connections close after the response).
    void Shutdown();
    size_t open_connections() const;

  private:
    struct Connection;
    Task<void> AcceptLoop();
    Task<void> SweepLoop(size_t context);
    Task<void> ServeConnection(boost::asio::ip::tcp::socket socket, size_t context,
                               std::string address);
    // Serves the connection's requests until it closes, or until a handler answers with an
    // open-ended response (an event stream), left in `open_ended` for WriteStream.
    template <class Stream>
    Task<void> ServeRequests(Stream& stream, Connection& conn, std::optional<Response>& open_ended);
    template <class Stream>
    Task<void> WriteStream(Stream& stream, Response& response, Connection& conn);

    std::vector<boost::asio::io_context*> contexts_;
    size_t next_context_ = 0;  // acceptor coroutine only
    ServerOptions options_;
    Pipeline& pipeline_;
    std::optional<boost::asio::ssl::context> tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    uint16_t bound_port_ = 0;
    std::atomic<bool> draining_{false};

    // The live connections of each context, touched only by that context's thread.
    std::vector<std::unordered_map<Connection*, std::weak_ptr<Connection>>> live_;
    std::atomic<int64_t> open_{0};
    // Open connections per client address (for max_connections_per_ip); guarded by per_ip_mu_.
    std::mutex per_ip_mu_;
    std::unordered_map<std::string, size_t> per_ip_;
    // Whether a new connection from `address` is within the caps; counts it when it is.
    bool Admit(const std::string& address);
    void Leave(const std::string& address);
    std::chrono::steady_clock::time_point fd_warning_at_{};  // acceptor coroutine only
};

}  // namespace tb::http
