#pragma once
// A bounded pool of worker threads for CPU-heavy or blocking work (Argon2id, later SMTP and
// file hashing), so that it never runs on an I/O thread. A full queue refuses at once with
// UNAVAILABLE (503) instead of growing without bound.
//
// Thread safety: Run may be called from any thread; the queue is guarded by mu_.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/await_callback.h"
#include "common/result.h"

namespace tb {

class WorkerPool {
  public:
    // nice: the workers' CPU priority (Linux nice value, 0..19). Password hashing runs at 15:
    // when CPUs are scarce, request handling gets most of the time. Measured with the server
    // on one core saturated by reads and 32 clients logging in (docs/performance.md, 2026-12-03):
    // the reads' p99 was 5.4-6.2 ms at nice 10, 3.6-4.1 ms at 15 or 19 (2.0 ms without the
    // logins); SCHED_IDLE gave 2.2 ms but starves logins whenever the core is busy.
    WorkerPool(size_t threads, size_t max_queue, int nice = 0);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Runs fn on a worker and resumes the caller with its result; UNAVAILABLE when the queue
    // is full or the pool is stopping.
    template <class T>
    Task<Result<T>> Run(std::function<Result<T>()> fn) {
        auto submit = [this, fn = std::move(fn)](std::function<void(Result<T>)> resume) mutable {
            bool queued = Post([fn = std::move(fn), resume]() mutable { resume(fn()); });
            if (!queued) resume(Error::Unavailable("Server busy, try again", "worker queue full"));
        };
        Result<T> out = co_await AwaitCallback<Result<T>>(std::move(submit));
        co_return out;
    }
    size_t queued() const;

  private:
    bool Post(std::function<void()> job);
    void Loop();

    size_t max_queue_;
    int nice_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;  // guarded by mu_
    bool stopping_ = false;                   // guarded by mu_
    std::vector<std::thread> threads_;
};

}  // namespace tb
