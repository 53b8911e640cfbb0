#pragma once
// The client's address (API.md §13, rate limits per anonymous client IP): the socket's peer,
// or, when that peer is a configured trusted proxy, the address X-Forwarded-For names. The
// header is read from the right: each hop a trusted proxy appended is skipped, and the first
// address no trusted proxy owns is the client (an address the client itself wrote further
// left is never believed).
//
// Thread safety: built at start-up, then read-only.

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tb::http {

class TrustedProxies {
  public:
    // Addresses ("10.0.0.1", "::1") and CIDR ranges ("10.0.0.0/8", "fd00::/8").
    static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

    bool empty() const { return v4_.empty() && v6_.empty(); }
    bool Contains(std::string_view address) const;
    // The client address for a request from `peer` carrying `forwarded_for`.
    std::string ClientIp(const std::string& peer, std::string_view forwarded_for) const;

  private:
    std::vector<boost::asio::ip::network_v4> v4_;
    std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace tb::http
