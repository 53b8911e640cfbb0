#include "realtime/event_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace tb::realtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Everything the stream yields until it ends (or `limit` reads), read on `io`.
std::string Drain(asio::io_context& io, const std::shared_ptr<EventStream>& stream,
                  int limit = 1000) {
    std::string out;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
            char buf[64];
            for (int i = 0; i < limit; ++i) {
                auto n = co_await stream->Read(std::span<char>(buf, sizeof buf));
                if (!n.ok() || *n == 0) break;
                out.append(buf, *n);
            }
            done = true;
        },
        asio::detached);
    io.run_for(2s);
    EXPECT_TRUE(done);
    return out;
}

TEST(EventStream, FormatsEventsAsServerSentEvents) {
    EXPECT_EQ(FormatEvent("c:1", "create", R"({"a":1})"),
              "id: c:1\nevent: create\ndata: {\"a\":1}\n\n");
    EXPECT_EQ(FormatEvent("", "reset", "{}"), "event: reset\ndata: {}\n\n");
}

TEST(EventStream, YieldsWhatWasPushedInOrderThenEndsAfterClose) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 1 << 20, 10s);
    EXPECT_TRUE(stream->Push(FormatEvent("1", "create", "{}")));
    EXPECT_TRUE(stream->Push(FormatEvent("2", "update", "{}")));
    stream->Close(FormatEvent("3", "reset", "{}"));
    EXPECT_FALSE(stream->Push(FormatEvent("4", "create", "{}")));  // after the end: refused
    EXPECT_EQ(Drain(io, stream),
              "id: 1\nevent: create\ndata: {}\n\nid: 2\nevent: update\ndata: {}\n\n"
              "id: 3\nevent: reset\ndata: {}\n\n");
}

TEST(EventStream, AWaitingReaderWakesForAPushFromAnotherThread) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 1 << 20, 10s);
    std::thread pusher([stream] {
        std::this_thread::sleep_for(50ms);
        stream->Push(FormatEvent("1", "create", "{}"));
        stream->Close();
    });
    const auto started = std::chrono::steady_clock::now();
    std::string got = Drain(io, stream);
    pusher.join();
    EXPECT_EQ(got, "id: 1\nevent: create\ndata: {}\n\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // not the heartbeat's 10 s
}

TEST(EventStream, SendsAHeartbeatCommentWhenIdle) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 1 << 20, 20ms);
    std::string got = Drain(io, stream, 2);
    EXPECT_EQ(got, ":\n\n:\n\n");
}

TEST(EventStream, AClientThatFallsBehindGetsOverflowAndTheStreamEnds) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 100, 10s);
    const std::string event = FormatEvent("1", "create", std::string(40, 'x'));
    EXPECT_TRUE(stream->Push(event));
    EXPECT_FALSE(stream->Push(event + event));  // past 100 bytes queued
    EXPECT_TRUE(stream->ended());
    EXPECT_FALSE(stream->Push(event));
    std::string got = Drain(io, stream);
    EXPECT_EQ(got.substr(0, event.size()), event);
    EXPECT_NE(got.find("event: overflow\n"), std::string::npos);
    EXPECT_EQ(got.find(event + event), std::string::npos);
}

TEST(EventStream, AnEventLargerThanTheAllowanceGoesToAClientThatKeepsUp) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 100, 10s);
    const std::string big = FormatEvent("1", "create", std::string(500, 'x'));
    EXPECT_TRUE(stream->Push(big));  // nothing queued before it
    stream->Close();
    EXPECT_EQ(Drain(io, stream), big);
}

TEST(EventStream, ReadChunkHandsOverTheQueueAndEndsEmpty) {
    asio::io_context io;
    auto stream = std::make_shared<EventStream>(io.get_executor(), 1 << 20, 10s);
    EXPECT_TRUE(stream->Push("abc"));
    EXPECT_TRUE(stream->Push("def"));
    stream->Abandon();  // the client went: what is queued is still read, then the end
    std::vector<std::string> chunks;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
            for (;;) {
                auto chunk = co_await stream->ReadChunk(4);
                if (!chunk.ok() || chunk->empty()) break;
                chunks.push_back(std::move(*chunk));
            }
        },
        asio::detached);
    io.run();
    EXPECT_EQ(chunks, (std::vector<std::string>{"abcd", "ef"}));
}

}  // namespace
}  // namespace tb::realtime
