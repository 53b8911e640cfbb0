#include "mail/outbox.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

#include "common/log.h"

namespace tb::mail {

namespace asio = boost::asio;
using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::Session;
using storage::TransactionFn;

struct Outbox::Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
};

namespace {

constexpr int kBatch = 16;

Entry EntryFromRow(const std::vector<storage::Value>& r) {
    Entry e;
    e.id = AsText(r[0]);
    e.kind = AsText(r[1]);
    e.to = AsText(r[2]);
    e.subject = AsText(r[3]);
    e.status = AsText(r[4]);
    e.attempts = AsInt(r[5]);
    if (!IsNull(r[6])) e.last_error = AsText(r[6]);
    e.created_at = AsInt(r[7]);
    e.updated_at = AsInt(r[8]);
    if (!IsNull(r[9])) e.sent_at = AsInt(r[9]);
    return e;
}

}  // namespace

Outbox::Outbox(storage::Database& db, IdGenerator& ids, const Clock& clock, OutboxSettings settings)
    : db_(db), ids_(ids), clock_(clock), settings_(std::move(settings)) {}

Outbox::~Outbox() = default;

Task<Result<Entry>> Outbox::Enqueue(Session& tx, const std::string& tenant_id, std::string kind,
                                    const Mail& mail) {
    Entry e;
    e.id = ids_.Next();
    e.kind = std::move(kind);
    e.to = mail.to;
    e.subject = mail.subject;
    e.status = "queued";
    e.created_at = e.updated_at = Now();
    std::string message = RenderMessage(mail, settings_.from, e.id, clock_.Now());
    storage::Value tenant = tenant_id.empty() ? storage::Value{} : storage::Value{tenant_id};
    auto r = co_await tx.Execute(
        "INSERT INTO mail_outbox (id, tenant_id, kind, recipient, subject, message, status, "
        "attempts, next_attempt_at, claimed_until, created_at, updated_at) VALUES "
        "(?, ?, ?, ?, ?, ?, 'queued', 0, ?, 0, ?, ?)",
        Bind(e.id, tenant, e.kind, e.to, e.subject, message, e.created_at, e.created_at,
             e.created_at));
    if (!r.ok()) co_return std::move(r).error();
    co_return e;
}

Task<Result<Entry>> Outbox::Send(const std::string& tenant_id, std::string kind, const Mail& mail) {
    Entry entry;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(entry, co_await Enqueue(tx, tenant_id, kind, mail));
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Wake();
    co_return entry;
}

Task<Result<std::optional<Entry>>> Outbox::Find(const std::string& tenant_id,
                                                const std::string& id) {
    auto rows = co_await db_.Query(
        "SELECT id, kind, recipient, subject, status, attempts, last_error, created_at, "
        "updated_at, sent_at FROM mail_outbox WHERE tenant_id = ? AND id = ?",
        Bind(tenant_id, id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<Entry>{};
    co_return std::optional<Entry>(EntryFromRow(rows->rows[0]));
}

Task<Result<std::vector<Outbox::Claimed>>> Outbox::Claim() {
    int64_t now = Now();
    std::vector<Claimed> out;
    // A read first: an idle queue (the common case, polled every poll_seconds on every node)
    // costs one indexed lookup on a reader, not a write transaction.
    // tenant-scope: the delivery loop serves every tenant; it reads nothing back to a caller.
    auto due = co_await db_.Query(
        "SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= ? AND "
        "claimed_until <= ? LIMIT 1",
        Bind(now, now));
    if (!due.ok()) co_return std::move(due).error();
    if (due->empty()) co_return out;
    // tenant-scope: the delivery loop serves every tenant; it reads nothing back to a caller.
    std::string sql =
        "UPDATE mail_outbox SET claimed_until = ? WHERE id IN (SELECT id FROM mail_outbox "
        "WHERE status = 'queued' AND next_attempt_at <= ? AND claimed_until <= ? "
        "ORDER BY next_attempt_at LIMIT " +
        std::to_string(kBatch) + std::string(db_.dialect().SkipLocked()) +
        ") AND status = 'queued' AND claimed_until <= ? RETURNING id, recipient, message, "
        "attempts";
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto rows = co_await tx.Query(sql, Bind(now + settings_.lease_ms, now, now, now));
        if (!rows.ok()) co_return std::move(rows).error();
        out.clear();  // this run's rows only: a transaction may run again
        for (const auto& r : rows->rows)
            out.push_back({AsText(r[0]), AsText(r[1]), AsText(r[2]), AsInt(r[3])});
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    co_return out;
}

Task<Status> Outbox::Settle(const Claimed& mail, const Delivery& outcome) {
    int64_t now = Now();
    int64_t attempts = mail.attempts + 1;
    Result<int64_t> r = int64_t{0};
    // tenant-scope: settles the row this loop claimed, by its id.
    if (outcome.ok) {
        r = co_await db_.Execute(
            "UPDATE mail_outbox SET status = 'sent', attempts = ?, message = '', last_error = "
            "NULL, sent_at = ?, updated_at = ?, claimed_until = 0 WHERE id = ?",
            Bind(attempts, now, now, mail.id));
    } else if (outcome.permanent || attempts >= settings_.max_attempts) {
        log::Warn("mail failed", {{"id", mail.id}, {"error", outcome.error}});
        // tenant-scope: as above.
        r = co_await db_.Execute(
            "UPDATE mail_outbox SET status = 'failed', attempts = ?, message = '', last_error = "
            "?, updated_at = ?, claimed_until = 0 WHERE id = ?",
            Bind(attempts, outcome.error, now, mail.id));
    } else {
        double wait =
            settings_.retry_base_seconds * std::pow(2.0, static_cast<double>(attempts - 1));
        int64_t next = now + static_cast<int64_t>(std::min(wait, 3600.0) * 1000);
        // tenant-scope: as above.
        r = co_await db_.Execute(
            "UPDATE mail_outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, "
            "updated_at = ?, claimed_until = 0 WHERE id = ?",
            Bind(attempts, outcome.error, next, now, mail.id));
    }
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Result<int>> Outbox::DeliverDue(const Transport& transport, WorkerPool& workers) {
    int settled = 0;
    for (;;) {
        auto claimed = co_await Claim();
        if (!claimed.ok()) co_return std::move(claimed).error();
        if (claimed->empty()) co_return settled;
        for (const Claimed& mail : *claimed) {
            Envelope envelope{mail.id, settings_.from.address, mail.to};
            const Transport* t = &transport;
            std::function<Result<Delivery>()> send = [t, envelope, message = mail.message] {
                return Result<Delivery>(t->Deliver(envelope, message));
            };
            auto outcome = co_await workers.Run<Delivery>(std::move(send));
            Delivery d = outcome.ok() ? *outcome : Delivery{false, false, outcome.error().message};
            TB_CO_RETURN_IF_ERROR(co_await Settle(mail, d));
            ++settled;
        }
        if (stopping_) co_return settled;
    }
}

Task<void> Outbox::Run(const Transport& transport, WorkerPool& workers) {
    running_ = true;
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    {
        std::lock_guard lock(waiter_mu_);
        waiter_ = waiter;
    }
    while (!stopping_) {
        wake_ = false;
        auto done = co_await DeliverDue(transport, workers);
        if (!done.ok()) log::Warn("mail delivery failed", {{"error", done.error().internal}});
        if (stopping_) break;
        if (wake_) continue;  // a mail was queued while this pass ran
        waiter->timer.expires_after(
            std::chrono::milliseconds(static_cast<int64_t>(settings_.poll_seconds * 1000)));
        boost::system::error_code ec;
        co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    {
        std::lock_guard lock(waiter_mu_);
        waiter_.reset();
    }
    running_ = false;
}

void Outbox::Wake() {
    wake_ = true;
    std::lock_guard lock(waiter_mu_);
    if (!waiter_) return;
    // The timer belongs to the loop's executor: cancel it there.
    asio::post(waiter_->timer.get_executor(), [w = waiter_] { w->timer.cancel(); });
}

void Outbox::Stop() {
    stopping_ = true;
    Wake();
}

}  // namespace tb::mail
