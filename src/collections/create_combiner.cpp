#include "collections/create_combiner.h"

#include "common/await_callback.h"

namespace tb::collections {

Task<Status> CreateCombiner::Write(const std::string& key, Item& item) {
    bool lead = false;
    {
        std::lock_guard lock(mu_);
        Queue& q = queues_[key];
        if (!q.busy) lead = q.busy = true;
    }
    if (!lead) {
        // Queued until a batch has written this item (false), or this one is to lead the next
        // batch (true; at once when the batch in flight ended since the check above).
        auto wait = [this, &key, &item](std::function<void(bool)> resume) {
            std::unique_lock lock(mu_);
            Queue& q = queues_[key];
            if (!q.busy) {
                q.busy = true;
                lock.unlock();
                resume(true);
                return;
            }
            q.waiting.push_back({&item, std::move(resume)});
        };
        if (!co_await AwaitCallback<bool>(std::move(wait))) co_return item.result;
    }
    std::vector<Item*> batch{&item};
    std::vector<std::function<void(bool)>> written;
    {
        std::lock_guard lock(mu_);
        Queue& q = queues_[key];
        for (Waiting& w : q.waiting) {
            batch.push_back(w.item);
            written.push_back(std::move(w.resume));
        }
        q.waiting.clear();
    }
    co_await write_(batch);
    // The others' results are set; once woken they may end (and their items with them).
    for (auto& resume : written) resume(false);
    std::function<void(bool)> next;
    {
        std::lock_guard lock(mu_);
        auto it = queues_.find(key);
        if (it->second.waiting.empty()) {
            queues_.erase(it);
        } else {
            // The first one queued meanwhile leads the next batch, of all queued by then.
            next = std::move(it->second.waiting.front().resume);
            it->second.waiting.erase(it->second.waiting.begin());
        }
    }
    if (next) next(true);
    co_return item.result;
}

}  // namespace tb::collections
