#include "http/access_log.h"

#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <chrono>
#include <ctime>

namespace tb::http {

namespace {
void AppendTimestamp(std::string& out) {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    // gmtime_r is the costly part; cache it per thread for the current second.
    thread_local std::time_t cached_secs = -1;
    thread_local char cached[24];
    if (secs != cached_secs) {
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_secs = secs;
    }
    out += cached;
    fmt::format_to(std::back_inserter(out), ".{:03d}Z", static_cast<int>(ms % 1000));
}
}  // namespace

AccessLog::AccessLog(int fd) : fd_(fd), writer_([this] { WriterLoop(); }) {}

AccessLog::~AccessLog() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();  // the writer collects every buffer once more before it ends
}

// The calling thread's buffer for this log, registered on first use.
AccessLog::Buffer& AccessLog::ThreadBuffer() {
    struct Slot {
        const AccessLog* owner = nullptr;
        Buffer* buffer = nullptr;
    };
    thread_local Slot slot;
    if (slot.owner != this) {
        auto buffer = std::make_unique<Buffer>();
        buffer->data.reserve(kFlushBytes + 1024);
        slot.buffer = buffer.get();
        slot.owner = this;
        std::lock_guard lock(mu_);
        buffers_.push_back(std::move(buffer));
    }
    return *slot.buffer;
}

void AccessLog::AppendEscaped(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x80) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
}

void AccessLog::Append(const AccessRecord& r) {
    Buffer& b = ThreadBuffer();
    std::unique_lock lock(b.mu);
    std::string& out = b.data;
    out += R"({"ts":")";
    AppendTimestamp(out);
    out += R"(","level":"info","msg":"request","method":")";
    AppendEscaped(out, r.method);
    out += R"(","path":")";
    AppendEscaped(out, r.target);
    fmt::format_to(std::back_inserter(out), R"(","status":{},"duration_ms":{:.3f},"request_id":")",
                   r.status, r.duration_ms);
    AppendEscaped(out, r.request_id);
    out += R"(","remote":")";
    AppendEscaped(out, r.remote);
    out += "\"}\n";
    if (out.size() >= kFlushBytes) {
        lock.unlock();
        {
            std::lock_guard wake(mu_);
            full_ = true;
        }
        cv_.notify_one();
    }
}

void AccessLog::WriteAll(std::string& scratch) {
    std::vector<Buffer*> buffers;
    {
        std::lock_guard lock(mu_);
        for (auto& b : buffers_) buffers.push_back(b.get());
    }
    for (Buffer* b : buffers) {
        {
            std::lock_guard lock(b->mu);
            if (b->data.empty()) continue;
            scratch.swap(b->data);  // the thread keeps appending into the emptied one
        }
        size_t done = 0;
        while (done < scratch.size()) {
            ssize_t n = ::write(fd_, scratch.data() + done, scratch.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // stdout gone: drop the lines rather than stall
            done += static_cast<size_t>(n);
        }
        scratch.clear();
    }
}

void AccessLog::WriterLoop() {
    std::string scratch;
    scratch.reserve(kFlushBytes + 1024);
    while (true) {
        bool stop;
        {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_ || full_; });
            full_ = false;
            stop = stopping_;
        }
        WriteAll(scratch);
        if (stop) return;
    }
}

}  // namespace tb::http
