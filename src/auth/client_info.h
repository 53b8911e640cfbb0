#pragma once
// Where a request came from, for the audit log.

#include <string>

namespace tb::auth {

struct ClientInfo {
    std::string ip;
    std::string user_agent;
};

}  // namespace tb::auth
