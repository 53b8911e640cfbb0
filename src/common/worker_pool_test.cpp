#include "common/worker_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace tb {
namespace {

TEST(WorkerPool, RunsOffTheCallingThreadAndResumesOnIt) {
    WorkerPool pool(2, 16);
    boost::asio::io_context ioc;
    std::thread::id caller = std::this_thread::get_id(), worker, resumed;
    int value = 0;
    auto task = [&]() -> Task<void> {
        std::function<Result<int>()> job = [&] {
            worker = std::this_thread::get_id();
            return Result<int>(42);
        };
        Result<int> r = co_await pool.Run<int>(std::move(job));
        resumed = std::this_thread::get_id();
        value = *r;
    };
    boost::asio::co_spawn(ioc, task(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ioc.run();
    EXPECT_EQ(value, 42);
    EXPECT_NE(worker, caller);
    EXPECT_EQ(resumed, caller);
}

// Password hashing must take only CPU time that requests leave (worker_pool.h).
TEST(WorkerPool, BackgroundWorkersRunUnderSchedIdle) {
    WorkerPool background(1, 4, WorkerPool::Priority::kBackground);
    WorkerPool normal(1, 4);
    boost::asio::io_context ioc;
    int background_policy = -1, normal_policy = -1;
    auto task = [&]() -> Task<void> {
        std::function<Result<int>()> job = [] { return Result<int>(sched_getscheduler(0)); };
        background_policy = *co_await background.Run<int>(job);
        normal_policy = *co_await normal.Run<int>(job);
    };
    boost::asio::co_spawn(ioc, task(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ioc.run();
    EXPECT_EQ(background_policy, SCHED_IDLE);
    EXPECT_EQ(normal_policy, SCHED_OTHER);
}

TEST(WorkerPool, AFullQueueAnswersUnavailable) {
    WorkerPool pool(1, 1);  // one worker, one waiting job
    std::atomic<bool> started{false}, release{false};
    boost::asio::io_context ioc;
    std::vector<ErrorCode> errors;
    int ok = 0;
    // The coroutine lambda lives as long as the test: its captures must outlive the coroutines.
    auto task = [&]() -> Task<void> {
        std::function<Result<int>()> job = [&] {
            started = true;
            while (!release) std::this_thread::yield();
            return Result<int>(1);
        };
        Result<int> r = co_await pool.Run<int>(std::move(job));
        if (r.ok()) {
            ++ok;
        } else {
            errors.push_back(r.error().code);
            if (errors.size() == 2) release = true;  // both refusals are back: finish
        }
    };
    auto submit = [&] {
        boost::asio::co_spawn(ioc, task(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    };
    submit();
    while (!started) {  // the worker holds the first job
        ioc.poll();
        std::this_thread::yield();
    }
    submit();  // queued
    submit();  // refused
    submit();  // refused
    ioc.restart();
    ioc.run();
    EXPECT_EQ(ok, 2);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0], ErrorCode::kUnavailable);
    EXPECT_EQ(errors[1], ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace tb
