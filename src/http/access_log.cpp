#include "http/access_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>

#include "common/clock.h"

namespace tb::http {

namespace {
// "12.345": milliseconds with three decimals, from whole microseconds (no float formatting
// on the per-request path).
void AppendMillis(std::string& out, double ms) {
    int64_t micros = std::llround(std::max(ms, 0.0) * 1000.0);
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, micros / 1000).ptr);
    int frac = static_cast<int>(micros % 1000);
    out += '.';
    out += static_cast<char>('0' + frac / 100);
    out += static_cast<char>('0' + frac / 10 % 10);
    out += static_cast<char>('0' + frac % 10);
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
    size_t run = 0;  // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const bool plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
        if (plain) continue;
        out.append(s.data() + run, i - run);  // appended as one piece, not byte by byte
        run = i + 1;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    out.append(s.data() + run, s.size() - run);
}

namespace {

// A query parameter whose value may be a credential: never written to a log.
bool SecretParameter(std::string_view raw_name) {
    std::string name;
    for (size_t i = 0; i < raw_name.size() && name.size() < 64; ++i) {
        char c = raw_name[i];
        if (c == '%' && i + 2 < raw_name.size()) {
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            int hi = hex(raw_name[i + 1]), lo = hex(raw_name[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = static_cast<char>(hi * 16 + lo);
                i += 2;
            }
        }
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    for (std::string_view exact : {"apikey", "api_key", "key", "x-api-key"})
        if (name == exact) return true;
    for (std::string_view part : {"token", "password", "secret"})
        if (name.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace

void AccessLog::AppendRedactedTarget(std::string& out, std::string_view target) {
    size_t q = target.find('?');
    AppendEscaped(out, target.substr(0, q));
    if (q == std::string_view::npos) return;
    out += '?';
    std::string_view query = target.substr(q + 1);
    while (true) {
        size_t amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        size_t eq = param.find('=');
        if (eq != std::string_view::npos && SecretParameter(param.substr(0, eq))) {
            AppendEscaped(out, param.substr(0, eq));
            out += "=[REDACTED]";
        } else {
            AppendEscaped(out, param);
        }
        if (amp == std::string_view::npos) break;
        out += '&';
        query.remove_prefix(amp + 1);
    }
}

void AccessLog::Append(const AccessRecord& r) {
    Buffer& b = ThreadBuffer();
    std::unique_lock lock(b.mu);
    std::string& out = b.data;
    out += R"({"ts":")";
    AppendRfc3339(out, SystemClock().Now());
    out += R"(","level":"info","msg":"request","method":")";
    AppendEscaped(out, r.method);
    out += R"(","path":")";
    AppendRedactedTarget(out, r.target);
    out += R"(","status":)";
    char status[12];
    out.append(status, std::to_chars(status, status + sizeof status, r.status).ptr);
    out += R"(,"duration_ms":)";
    AppendMillis(out, r.duration_ms);
    out += R"(,"request_id":")";
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
