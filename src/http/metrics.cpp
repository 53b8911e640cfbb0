#include "http/metrics.h"

#include <fmt/format.h>

namespace tb::http {

Metrics::Metrics(std::vector<std::string> route_names)
    : route_names_(std::move(route_names)),
      histograms_(std::make_unique<Histogram[]>(route_names_.size() + 1)) {}

void Metrics::Record(int route_index, Method method, int status, double seconds) {
    size_t route = route_index < 0 ? route_names_.size() : static_cast<size_t>(route_index);
    uint64_t key = (static_cast<uint64_t>(route) << 24) | (static_cast<uint64_t>(method) << 16) |
                   static_cast<uint64_t>(status & 0xFFFF);
    std::atomic<uint64_t>* counter;
    {
        std::lock_guard lock(mu_);
        auto& slot = counts_[key];
        if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
        counter = slot.get();
    }
    counter->fetch_add(1, std::memory_order_relaxed);
    Histogram& h = histograms_[route];
    size_t b = 0;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    h.counts[b].fetch_add(1, std::memory_order_relaxed);
    h.sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
    std::lock_guard lock(mu_);
    gauges_.push_back({std::move(name), std::move(help), "gauge", std::move(read)});
}

void Metrics::AddCounter(std::string name, std::string help, std::function<double()> read) {
    std::lock_guard lock(mu_);
    gauges_.push_back({std::move(name), std::move(help), "counter", std::move(read)});
}

void Metrics::CountTenant(std::string_view tenant_id, uint64_t n) {
    std::atomic<uint64_t>* counter;
    {
        std::lock_guard lock(tenants_mu_);
        auto it = tenants_.find(tenant_id);
        if (it == tenants_.end()) {
            std::string_view label = tenants_.size() < kMaxTenants ? tenant_id : "other";
            it = tenants_.find(label);
            if (it == tenants_.end()) {
                it =
                    tenants_.emplace(std::string(label), std::make_unique<std::atomic<uint64_t>>(0))
                        .first;
            }
        }
        counter = it->second.get();
    }
    counter->fetch_add(n, std::memory_order_relaxed);
}

std::string Metrics::Render() const {
    auto route_name = [&](size_t i) -> std::string_view {
        return i < route_names_.size() ? std::string_view(route_names_[i]) : "unmatched";
    };
    std::string out;
    out += "# HELP tenantbase_http_requests_total HTTP requests by method, route and status.\n";
    out += "# TYPE tenantbase_http_requests_total counter\n";
    std::vector<Gauge> gauges;
    {
        std::lock_guard lock(mu_);
        for (const auto& [key, count] : counts_) {
            size_t route = key >> 24;
            auto method = static_cast<Method>((key >> 16) & 0xFF);
            out += fmt::format(
                "tenantbase_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                MethodName(method), route_name(route), key & 0xFFFF, count->load());
        }
        gauges = gauges_;
    }
    out += "# HELP tenantbase_http_request_duration_seconds Request latency by route.\n";
    out += "# TYPE tenantbase_http_request_duration_seconds histogram\n";
    for (size_t r = 0; r <= route_names_.size(); ++r) {
        const Histogram& h = histograms_[r];
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= kBuckets.size(); ++b) cumulative += h.counts[b].load();
        if (cumulative == 0) continue;
        cumulative = 0;
        for (size_t b = 0; b < kBuckets.size(); ++b) {
            cumulative += h.counts[b].load();
            out += fmt::format(
                "tenantbase_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                route_name(r), kBuckets[b], cumulative);
        }
        cumulative += h.counts[kBuckets.size()].load();
        out += fmt::format(
            "tenantbase_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
            route_name(r), cumulative);
        out += fmt::format("tenantbase_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                           route_name(r), static_cast<double>(h.sum_us.load()) / 1e6);
        out += fmt::format("tenantbase_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                           route_name(r), cumulative);
    }
    out += "# HELP tenantbase_http_requests_in_flight Requests being handled now.\n";
    out += "# TYPE tenantbase_http_requests_in_flight gauge\n";
    out += fmt::format("tenantbase_http_requests_in_flight {}\n", in_flight_.load());
    for (const Gauge& g : gauges) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", g.name, g.help, g.name, g.type,
                           g.name, g.read());
    }
    out += "# HELP tenantbase_tenant_requests_total Requests by tenant (the first " +
           std::to_string(kMaxTenants) + " tenants seen; later ones as \"other\").\n";
    out += "# TYPE tenantbase_tenant_requests_total counter\n";
    {
        std::lock_guard lock(tenants_mu_);
        std::map<std::string_view, uint64_t> sorted;
        for (const auto& [tenant, count] : tenants_) sorted.emplace(tenant, count->load());
        for (const auto& [tenant, count] : sorted) {
            out += fmt::format("tenantbase_tenant_requests_total{{tenant=\"{}\"}} {}\n", tenant,
                               count);
        }
    }
    return out;
}

}  // namespace tb::http
