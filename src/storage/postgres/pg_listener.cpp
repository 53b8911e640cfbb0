#include "storage/postgres/pg_listener.h"

#include <algorithm>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"

namespace tb::storage {

namespace asio = boost::asio;

namespace {
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(5);
}  // namespace

struct PgListener::State {
    asio::any_io_executor ex;
    std::string url, node_id;
    OnChange on_change;
    std::function<void()> on_gap, on_lost;
    // Channels besides tb_changes (Listen), fixed before Start.
    std::vector<std::pair<std::string, std::function<void(const std::string&)>>> others;
    std::atomic<bool> connected{false};
    // When this node's heartbeat last came back (steady clock, ms since its epoch; 0: never).
    std::atomic<int64_t> last_beat_ms{0};
    // Touched only on the executor (Run, and Stop's posted handler).
    bool stopping = false;
    PgConnection* conn = nullptr;
    asio::steady_timer* timer = nullptr;
};

PgListener::PgListener(asio::any_io_executor ex, std::string url, std::string node_id,
                       OnChange on_change, std::function<void()> on_gap,
                       std::function<void()> on_lost)
    : state_(std::make_shared<State>()) {
    state_->ex = std::move(ex);
    state_->url = std::move(url);
    state_->node_id = std::move(node_id);
    state_->on_change = std::move(on_change);
    state_->on_gap = std::move(on_gap);
    state_->on_lost = std::move(on_lost);
}

PgListener::~PgListener() { Stop(); }

bool PgListener::connected() const { return state_->connected.load(std::memory_order_acquire); }

namespace {
int64_t SteadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
constexpr std::string_view kHeartbeat = "heartbeat";
}  // namespace

bool PgListener::Live(std::chrono::milliseconds within) const {
    int64_t beat = state_->last_beat_ms.load(std::memory_order_acquire);
    return connected() && beat != 0 && SteadyMs() - beat < within.count();
}

std::string PgListener::HeartbeatPayload(std::string_view node_id) {
    return std::string(node_id) + "\t" + std::string(kHeartbeat) + "\t";
}

void PgListener::Reconnect() {
    asio::post(state_->ex, [state = state_] {
        if (state->conn) state->conn->Cancel();
    });
}

void PgListener::Listen(std::string channel,
                        std::function<void(const std::string& payload)> on_payload) {
    state_->others.emplace_back(std::move(channel), std::move(on_payload));
}

void PgListener::Start() { asio::co_spawn(state_->ex, Run(state_), asio::detached); }

void PgListener::Stop() {
    asio::post(state_->ex, [state = state_] {
        state->stopping = true;
        if (state->conn) state->conn->Cancel();
        if (state->timer) state->timer->cancel();
    });
}

bool PgListener::ParsePayload(std::string_view payload, std::string_view& node,
                              std::string_view& topic, std::string_view& key) {
    size_t a = payload.find('\t');
    if (a == std::string_view::npos) return false;
    size_t b = payload.find('\t', a + 1);
    if (b == std::string_view::npos) return false;
    node = payload.substr(0, a);
    topic = payload.substr(a + 1, b - a - 1);
    key = payload.substr(b + 1);
    return !topic.empty();
}

Task<void> PgListener::Run(std::shared_ptr<State> state) {
    auto backoff = std::chrono::milliseconds(kFirstBackoff);
    while (!state->stopping) {
        auto conn = co_await PgConnection::Connect(state->ex, state->url);
        // Not one conditional expression: GCC 12 mishandles a temporary in a conditional with
        // a co_await in the other branch (it freed the error's text twice when the database
        // went down: heap corruption).
        Status listening;
        if (conn.ok()) {
            std::string script = "LISTEN tb_changes";
            for (const auto& [channel, handler] : state->others) script += "; LISTEN " + channel;
            listening = co_await (*conn)->Script(script);
        } else {
            listening = conn.error();
        }
        if (listening.ok() && !state->stopping) {
            state->conn = conn->get();
            state->connected.store(true, std::memory_order_release);
            // Whatever changed while no connection listened (or before the first one) may
            // still sit in a cache: drop them all.
            state->on_gap();
            backoff = kFirstBackoff;
            log::Info("listening for other nodes' changes", {{"channel", "tb_changes"}});
            while (!state->stopping) {
                auto got = co_await (*conn)->WaitNotifications();
                if (!got.ok()) {
                    state->connected.store(false, std::memory_order_release);
                    state->on_lost();
                    if (!state->stopping)
                        log::Warn("the change feed's connection failed; reconnecting",
                                  {{"error", got.error().internal}});
                    break;
                }
                for (const auto& n : *got) {
                    if (n.channel != "tb_changes") {
                        for (const auto& [channel, handler] : state->others)
                            if (channel == n.channel && !state->stopping) handler(n.payload);
                        continue;
                    }
                    std::string_view node, topic, key;
                    if (!ParsePayload(n.payload, node, topic, key)) continue;
                    if (node == state->node_id) {  // ours: published already, or our heartbeat
                        if (topic == kHeartbeat)
                            state->last_beat_ms.store(SteadyMs(), std::memory_order_release);
                        continue;
                    }
                    if (state->stopping) continue;
                    state->on_change(topic, std::string(key));
                }
            }
            state->conn = nullptr;
            state->connected.store(false, std::memory_order_release);
            if (state->stopping) break;
        } else if (!state->stopping) {
            log::Warn("cannot listen for other nodes' changes; retrying",
                      {{"error", listening.ok() ? "" : listening.error().internal},
                       {"retry_ms", std::to_string(backoff.count())}});
        }
        if (state->stopping) break;
        asio::steady_timer timer(state->ex, backoff);
        state->timer = &timer;
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        state->timer = nullptr;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    }
}

}  // namespace tb::storage
