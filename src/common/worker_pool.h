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
    // kBackground workers run under SCHED_IDLE: they take only CPU time that no other thread
    // of the machine wants. Password hashing runs so. A nice value is not enough: the kernel
    // lets a picked thread run to the next scheduler tick (4 ms at HZ=250), so even at nice 15
    // or 19 a hash stalls the I/O thread sharing its core for milliseconds at a time, and with
    // two hashing threads often enough to move the p99. Measured with the server on one core
    // saturated by reads and 32 clients logging in (docs/performance.md, 2026-12-03): `/me`
    // p99 13 ms at nice 15 against 0.8 ms without the logins; under SCHED_IDLE 2.8-5.5 ms in
    // bench/run. Most of that rest was another inversion: the I/O thread waiting for the
    // process's mmap_lock while a hashing thread held it (see AcquireReader in
    // storage/sqlite/sqlite_database.cpp). Without it: 1.45-1.65 ms, 1.3-1.7x the p99 without
    // the logins. Such a thread must take no lock that an I/O thread needs.
    // The price: on a core that requests keep 100% busy, logins get only the scheduler's
    // minimal share (well under one per second); with any idle CPU they run at full speed.
    enum class Priority { kNormal, kBackground };
    WorkerPool(size_t threads, size_t max_queue, Priority priority = Priority::kNormal);
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
    Priority priority_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;  // guarded by mu_
    bool stopping_ = false;                   // guarded by mu_
    std::vector<std::thread> threads_;
};

}  // namespace tb
