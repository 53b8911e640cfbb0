#pragma once
// What the handlers may use: the services and shared state, wired by app/.

#include <atomic>
#include <chrono>
#include <string>

#include "auth/auth_service.h"
#include "common/clock.h"
#include "common/ids.h"
#include "http/metrics.h"
#include "storage/database.h"

namespace tb::api {

struct Brand {
    std::string name, short_name, description;
};

struct Services {
    storage::Database& db;
    const Clock& clock;
    IdGenerator& ids;
    http::Metrics& metrics;
    Brand brand;
    std::chrono::steady_clock::time_point started;
    // False while starting and once draining: /readyz answers 503.
    std::atomic<bool>& ready;
    auth::AuthService& auth;
    auth::ApiKeyService& api_keys;
};

}  // namespace tb::api
