#include "realtime/hub.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <charconv>

#include "collections/collection.h"
#include "files/file_service.h"
#include "query/doc_filter.h"

namespace tb::realtime {

namespace asio = boost::asio;
using collections::DocumentChange;

namespace {

std::string_view EventName(DocumentChange::Kind kind) {
    switch (kind) {
        case DocumentChange::Kind::kCreate:
            return "create";
        case DocumentChange::Kind::kUpdate:
            return "update";
        case DocumentChange::Kind::kDelete:
            return "delete";
    }
    return "update";
}

// {"collection":…,"id":…,"document":…}: the stored body as the document, except for a delete.
std::string EventData(const DocumentChange& doc) {
    std::string out = "{\"collection\":";
    AppendJsonString(out, doc.collection);
    out += ",\"id\":";
    AppendJsonString(out, doc.id);
    if (doc.kind != DocumentChange::Kind::kDelete) {
        out += ",\"document\":";
        out += doc.body;
    }
    out += '}';
    return out;
}

std::string EventId(const std::string& client, uint64_t seq) {
    return client + ":" + std::to_string(seq);
}

// "<client id>:<sequence>" -> both; nullopt for anything else.
std::optional<std::pair<std::string, uint64_t>> ParseEventId(std::string_view text) {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view digits = text.substr(colon + 1);
    uint64_t seq = 0;
    auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (err != std::errc() || end != digits.data() + digits.size() || digits.empty())
        return std::nullopt;
    return std::pair{std::string(text.substr(0, colon)), seq};
}

}  // namespace

RealtimeHub::RealtimeHub(collections::DocumentService& documents, const Clock& clock,
                         IdGenerator& ids, RealtimeSettings settings)
    : documents_(documents), clock_(clock), ids_(ids), settings_(settings) {}

std::string RealtimeHub::PrincipalOf(const tenancy::Caller& who) {
    if (who.api_key) return "key:" + who.api_key->id;
    if (who.anonymous || who.user->id.empty()) return "visitor";
    return "user:" + who.user->id;
}

bool RealtimeHub::IsOpen(const Client& c) {
    auto s = c.stream.lock();
    return s && !s->ended();
}

size_t RealtimeHub::OpenStreamsLocked(const std::string* tenant_id) const {
    size_t n = 0;
    for (const auto& [id, c] : clients_)
        if (IsOpen(*c) && (!tenant_id || (c->caller && c->caller->scope().id() == *tenant_id))) ++n;
    return n;
}

size_t RealtimeHub::open_streams() const {
    std::lock_guard lock(mu_);
    return OpenStreamsLocked(nullptr);
}

Result<RealtimeHub::Opened> RealtimeHub::Open(const asio::any_io_executor& executor,
                                              std::string_view last_event_id) {
    std::lock_guard lock(mu_);
    const int64_t now = NowMs();
    Prune(now);
    if (OpenStreamsLocked(nullptr) >= settings_.max_connections)
        return Error::Unavailable("Too many realtime connections on this node; retry later");
    auto stream =
        std::make_shared<EventStream>(executor, settings_.max_queued_bytes, settings_.heartbeat);

    // A reconnect to this node: the same client, and what it missed while away.
    if (auto last = ParseEventId(last_event_id)) {
        auto it = clients_.find(last->first);
        if (it != clients_.end()) {
            std::shared_ptr<Client> c = it->second;
            if (auto old = c->stream.lock()) old->Close();
            c->stream = stream;
            c->executor = executor;
            c->gone_since_ms = 0;
            c->pending.clear();
            const bool covered =
                recent_.empty() ? last->second >= seq_ : recent_.front()->seq <= last->second + 1;
            if (!covered || last->second > seq_) {
                stream->Push(FormatEvent(EventId(c->id, seq_), "reset", "{}"));
            } else {
                for (const auto& change : recent_)
                    if (change->seq > last->second && Follows(*c, change->doc)) Enqueue(c, change);
            }
            return Opened{stream, c->id};
        }
    }
    auto c = std::make_shared<Client>();
    c->id = ids_.Next();
    c->executor = executor;
    c->stream = stream;
    clients_.emplace(c->id, c);
    std::string data = "{\"client_id\":";
    AppendJsonString(data, c->id);
    data += '}';
    stream->Push(FormatEvent(EventId(c->id, seq_), "connect", data));
    // The client expected to carry on (Last-Event-ID) but this node does not know it.
    if (!last_event_id.empty()) stream->Push(FormatEvent(EventId(c->id, seq_), "reset", "{}"));
    return Opened{stream, c->id};
}

Status RealtimeHub::MaySubscribe(const tenancy::Caller& who, const std::string& client_id) const {
    std::lock_guard lock(mu_);
    auto owned = Owner(who, client_id);
    if (!owned.ok()) return std::move(owned).error();
    return {};
}

Result<RealtimeHub::Client*> RealtimeHub::Owner(const tenancy::Caller& who,
                                                const std::string& client_id) const {
    auto it = clients_.find(client_id);
    if (it == clients_.end()) return Error::NotFound("Realtime client not found");
    Client* c = it->second.get();
    if (c->caller &&
        (c->principal != PrincipalOf(who) || c->caller->scope().id() != who.scope().id()))
        return Error::Forbidden("This realtime client belongs to another principal");
    return c;
}

Task<Result<std::vector<SubscriptionSpec>>> RealtimeHub::Subscribe(
    const tenancy::Caller& who, const std::string& client_id, std::vector<SubscriptionSpec> specs) {
    // Whose client it is comes before what it asks for (API.md §13, precedence).
    TB_CO_RETURN_IF_ERROR(MaySubscribe(who, client_id));
    if (specs.size() > settings_.max_subscriptions)
        co_return Error::Validation(
            "subscriptions",
            "At most " + std::to_string(settings_.max_subscriptions) + " subscriptions per client");
    std::vector<Subscription> kept;
    for (size_t i = 0; i < specs.size(); ++i) {
        const std::string at = "subscriptions." + std::to_string(i);
        SubscriptionSpec& spec = specs[i];
        if (spec.collection == collections::kFilesCollection) {
            TB_CO_RETURN_IF_ERROR(files::FileService::MayRead(who));
        } else {
            if (!collections::CheckCollectionName(spec.collection).ok())
                co_return Error::Validation(at + ".collection", "Not a collection name");
            TB_CO_RETURN_IF_ERROR(
                co_await documents_.Authorize(who, spec.collection, collections::Operation::kRead));
        }
        Subscription s{spec, nullptr};
        if (spec.q) {
            auto filter = query::ParseDocFilter(*spec.q);
            if (!filter.ok()) {
                // The list's answer to the same `q` (API.md §5.3), at this subscription.
                Error e = std::move(filter).error();
                co_return std::move(e).WithDetail("field", json::value(at + ".q"));
            }
            s.filter = std::make_shared<const query::DocMatcher>(std::move(*filter));
        }
        kept.push_back(std::move(s));
    }
    if (registry_) {
        std::set<std::string_view> named;
        for (const SubscriptionSpec& spec : specs)
            if (named.insert(spec.collection).second)
                TB_CO_RETURN_IF_ERROR(co_await registry_->Following(who.scope(), spec.collection));
    }
    std::lock_guard lock(mu_);
    // Again: the client may have gone, or another principal subscribed it, meanwhile.
    auto owned = Owner(who, client_id);
    if (!owned.ok()) co_return std::move(owned).error();
    Client& c = **owned;
    if (!c.caller && settings_.plans) {
        // A stream counts against its tenant's plan from its first subscription on.
        const int64_t limit = settings_.plans->Get(who.plan).max_realtime_connections;
        const size_t remote = registry_ ? registry_->RemoteStreams(who.scope().id()) : 0;
        if (limit != limits::kUnlimited &&
            OpenStreamsLocked(&who.scope().id()) + remote >= static_cast<size_t>(limit))
            co_return Error::QuotaExceeded(
                "This tenant has as many realtime connections as its plan allows",
                "max_realtime_connections", limit);
    }
    c.caller = who;
    c.principal = PrincipalOf(who);
    c.subscriptions = std::move(kept);
    co_return specs;
}

std::optional<json::object> RealtimeHub::ParseBody(const std::string& text) {
    auto parsed = ParseStoredJson(text, {.max_depth = 256});
    if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
    return std::move(parsed->as_object());
}

std::vector<std::pair<std::string, std::string>> RealtimeHub::Followed() const {
    std::set<std::pair<std::string, std::string>> pairs;
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : clients_) {
        if (!c->caller) continue;
        for (const Subscription& s : c->subscriptions)
            pairs.emplace(c->caller->scope().id(), s.spec.collection);
    }
    return {pairs.begin(), pairs.end()};
}

std::unordered_map<std::string, size_t> RealtimeHub::LocalStreams() const {
    std::unordered_map<std::string, size_t> out;
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : clients_) {
        if (c->caller && IsOpen(*c)) ++out[c->caller->scope().id()];
    }
    return out;
}

size_t RealtimeHub::TenantStreams(const std::string& tenant_id) const {
    size_t local = 0;
    {
        std::lock_guard lock(mu_);
        local = OpenStreamsLocked(&tenant_id);
    }
    return local + (registry_ ? registry_->RemoteStreams(tenant_id) : 0);
}

bool RealtimeHub::HasFilterOn(const Client& c, const std::string& collection) {
    for (const Subscription& s : c.subscriptions)
        if (s.filter && s.spec.collection == collection) return true;
    return false;
}

bool RealtimeHub::Follows(const Client& c, const DocumentChange& doc) const {
    if (!c.caller || c.caller->scope().id() != doc.tenant_id) return false;
    for (const Subscription& s : c.subscriptions)
        if (s.spec.collection == doc.collection && (!s.spec.id || *s.spec.id == doc.id))
            return true;
    return false;
}

void RealtimeHub::Published(std::vector<DocumentChange> changes) {
    std::lock_guard lock(mu_);
    // No client on this node (none open, none away within the replay window): nothing to
    // keep or send, and every document write passes through here.
    if (clients_.empty()) {
        recent_.clear();
        recent_bytes_ = 0;
        return;
    }
    const int64_t now = NowMs();
    for (DocumentChange& doc : changes) {
        auto change = std::make_shared<Change>();
        change->seq = ++seq_;
        change->at_ms = now;
        change->doc = std::move(doc);
        // Parsed once here only when a follower filters on it; a replay parses its own.
        bool filtered = false;
        for (const auto& [id, c] : clients_) {
            if (Follows(*c, change->doc) && HasFilterOn(*c, change->doc.collection)) {
                filtered = true;
                break;
            }
        }
        if (filtered) change->body = ParseBody(change->doc.body);
        std::shared_ptr<const Change> shared = change;
        recent_.push_back(shared);
        recent_bytes_ += shared->doc.body.size();
        for (auto& [id, c] : clients_)
            if (Follows(*c, shared->doc)) Enqueue(c, shared);
    }
    Prune(now);
}

void RealtimeHub::Enqueue(const std::shared_ptr<Client>& c, std::shared_ptr<const Change> change) {
    auto stream = c->stream.lock();
    if (!stream || stream->ended()) return;  // gone: a reconnect replays from recent_
    c->pending.push_back(std::move(change));
    if (c->draining) return;
    c->draining = true;
    // Posted, not spawned here: on the caller's own thread co_spawn would run Drain at once,
    // and Drain takes mu_, which the caller holds.
    asio::post(c->executor, [this, c] { asio::co_spawn(c->executor, Drain(c), asio::detached); });
}

Task<void> RealtimeHub::Drain(std::shared_ptr<Client> c) {
    std::vector<std::shared_ptr<const Change>> batch;
    size_t next = 0;
    std::optional<tenancy::Caller> caller;
    std::vector<Subscription> subscriptions;
    std::shared_ptr<EventStream> stream;
    for (;;) {
        if (next == batch.size()) {
            batch.clear();
            next = 0;
            std::lock_guard lock(mu_);
            stream = c->stream.lock();
            if (c->pending.empty() || !stream || stream->ended()) {
                c->pending.clear();
                c->draining = false;
                co_return;
            }
            batch.swap(c->pending);
            // The client as it is now: a later Subscribe applies from the next batch.
            caller = c->caller;
            subscriptions = c->subscriptions;
        }
        std::shared_ptr<const Change> change = std::move(batch[next++]);
        const DocumentChange& doc = change->doc;
        std::optional<json::object> parsed;  // when the change came without its parsed body
        const json::object* body = change->body ? &*change->body : nullptr;
        // Another node's delete: its body is not sent across, so no filter can be applied.
        const bool unfiltered = doc.kind == DocumentChange::Kind::kDelete && doc.body.empty();
        bool matched = false;
        for (const Subscription& s : subscriptions) {
            if (s.spec.collection != doc.collection || (s.spec.id && *s.spec.id != doc.id))
                continue;
            if (unfiltered) {
                matched = true;
                break;
            }
            if (s.filter && !body && (parsed = ParseBody(doc.body))) body = &*parsed;
            if (s.filter && (!body || !s.filter->Matches(*body))) continue;
            matched = true;
            break;
        }
        if (!matched || !caller) continue;
        if (!co_await MayRead(*caller, doc)) continue;
        const bool was_open = !stream->ended();
        if (stream->Push(
                FormatEvent(EventId(c->id, change->seq), EventName(doc.kind), EventData(doc)))) {
            events_sent_.fetch_add(1, std::memory_order_relaxed);
        } else if (was_open) {
            overflows_.fetch_add(1, std::memory_order_relaxed);  // this event passed the allowance
        }
    }
}

Task<bool> RealtimeHub::MayRead(const tenancy::Caller& who, const DocumentChange& doc) {
    if (doc.collection == collections::kFilesCollection)
        co_return files::FileService::MayRead(who).ok();
    co_return co_await documents_.MayRead(who, doc.collection, doc.created_by, doc.org);
}

void RealtimeHub::Prune(int64_t now_ms) {
    const int64_t horizon = now_ms - settings_.replay_window.count();
    while (!recent_.empty() &&
           (recent_.size() > settings_.replay_changes || recent_bytes_ > settings_.replay_bytes ||
            recent_.front()->at_ms < horizon)) {
        recent_bytes_ -= recent_.front()->doc.body.size();
        recent_.pop_front();
    }
    for (auto it = clients_.begin(); it != clients_.end();) {
        Client& c = *it->second;
        if (IsOpen(c)) {
            c.gone_since_ms = 0;
        } else if (c.gone_since_ms == 0) {
            c.gone_since_ms = now_ms;
        } else if (c.gone_since_ms < horizon) {
            it = clients_.erase(it);
            continue;
        }
        ++it;
    }
}

void RealtimeHub::DropWhere(const std::function<bool(const Client&)>& drop) {
    std::lock_guard lock(mu_);
    for (auto it = clients_.begin(); it != clients_.end();) {
        Client& c = *it->second;
        if (!c.caller || !drop(c)) {
            ++it;
            continue;
        }
        if (auto s = c.stream.lock()) s->Close(FormatEvent(EventId(c.id, seq_), "reset", "{}"));
        it = clients_.erase(it);
    }
}

void RealtimeHub::Attach(InvalidationBus& bus) {
    bus.Subscribe("api_key", [this](const std::string& key_id) {
        DropWhere([&](const Client& c) { return c.principal == "key:" + key_id; });
    });
    auto by_user = [this](const std::string& user_id) {
        // The user's own clients and those of the keys the user owns.
        DropWhere([&](const Client& c) { return c.caller->user->id == user_id; });
    };
    bus.Subscribe("user", by_user);
    bus.Subscribe("membership", by_user);
    bus.Subscribe("session", [this](const std::string& session_id) {
        DropWhere([&](const Client& c) { return c.caller->session_id == session_id; });
    });
    bus.Subscribe("tenant", [this](const std::string& tenant_id) {
        DropWhere([&](const Client& c) { return c.caller->scope().id() == tenant_id; });
    });
    bus.Subscribe("*",
                  [this](const std::string&) { DropWhere([](const Client&) { return true; }); });
}

void RealtimeHub::CloseAll() {
    std::lock_guard lock(mu_);
    for (auto& [id, c] : clients_)
        if (auto s = c->stream.lock()) s->Close(FormatEvent(EventId(c->id, seq_), "reset", "{}"));
}

}  // namespace tb::realtime
