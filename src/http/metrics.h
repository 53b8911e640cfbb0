#pragma once
// Prometheus metrics of the transport: requests by method, route template and status, a
// latency histogram per route, requests in flight; other modules add gauges by callback.
//
// Thread safety: Record and the gauges are safe from any thread. Counters are atomics; the
// (route, method, status) map is guarded by mu_ and only grows.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strings.h"
#include "http/message.h"

namespace tb::http {

class Metrics {
  public:
    // route_names[i] labels route index i; index route_names.size() is "unmatched".
    explicit Metrics(std::vector<std::string> route_names);

    void Record(int route_index, Method method, int status, double seconds);
    std::atomic<int64_t>& in_flight() { return in_flight_; }
    // A gauge whose value is read when /metrics is rendered.
    void AddGauge(std::string name, std::string help, std::function<double()> read);
    // A counter read when /metrics is rendered (kept elsewhere, e.g. rate-limit refusals).
    void AddCounter(std::string name, std::string help, std::function<double()> read);
    // Adds `n` requests to a tenant's counter. Cardinality is bounded: the first kMaxTenants
    // tenants seen get a series each, later ones share tenant="other". Fed by the usage
    // meter's flushes (about once a second), not per request.
    void CountTenant(std::string_view tenant_id, uint64_t n);
    static constexpr size_t kMaxTenants = 100;
    // The Prometheus text exposition (version 0.0.4).
    std::string Render() const;

  private:
    static constexpr std::array<double, 14> kBuckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
    struct Histogram {
        std::array<std::atomic<uint64_t>, kBuckets.size() + 1> counts{};
        std::atomic<uint64_t> sum_us{0};
    };
    struct Gauge {
        std::string name, help, type;
        std::function<double()> read;
    };

    std::vector<std::string> route_names_;
    std::unique_ptr<Histogram[]> histograms_;
    mutable std::mutex mu_;
    std::map<uint64_t, std::unique_ptr<std::atomic<uint64_t>>> counts_;  // guarded by mu_
    std::vector<Gauge> gauges_;                                          // guarded by mu_
    std::atomic<int64_t> in_flight_{0};
    mutable std::mutex tenants_mu_;
    TextMap<std::unique_ptr<std::atomic<uint64_t>>> tenants_;  // guarded by tenants_mu_
};

}  // namespace tb::http
