#include "http/client_ip.h"

#include <boost/asio/ip/address.hpp>

#include "common/strings.h"

namespace tb::http {

namespace asio = boost::asio;

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
    TrustedProxies t;
    for (const std::string& entry : entries) {
        boost::system::error_code ec;
        std::string text = entry;
        if (text.find('/') == std::string::npos) {
            auto a = asio::ip::make_address(text, ec);
            if (!ec) text += a.is_v4() ? "/32" : "/128";
        }
        if (!ec && text.find(':') == std::string::npos) {
            t.v4_.push_back(asio::ip::make_network_v4(text, ec));
        } else if (!ec) {
            t.v6_.push_back(asio::ip::make_network_v6(text, ec));
        }
        if (ec) return Error::BadRequest("not an IP address or CIDR range: " + entry);
    }
    return t;
}

bool TrustedProxies::Contains(std::string_view address) const {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(std::string(address), ec);
    if (ec) return false;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    }
    if (a.is_v4()) {
        auto host = asio::ip::network_v4(a.to_v4(), 32);
        for (const auto& n : v4_) {
            if (host == n || host.is_subnet_of(n)) return true;
        }
        return false;
    }
    auto host = asio::ip::network_v6(a.to_v6(), 128);
    for (const auto& n : v6_) {
        if (host == n || host.is_subnet_of(n)) return true;
    }
    return false;
}

std::string TrustedProxies::ClientIp(const std::string& peer,
                                     std::string_view forwarded_for) const {
    if (forwarded_for.empty() || !Contains(peer)) return peer;
    std::string client = peer;
    while (!forwarded_for.empty()) {
        size_t comma = forwarded_for.rfind(',');
        std::string_view hop =
            Trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
        forwarded_for =
            comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
        boost::system::error_code ec;
        auto a = asio::ip::make_address(std::string(hop), ec);
        if (ec) break;  // garbage: the last good hop is as far as we can trust
        client = a.to_string();
        if (!Contains(client)) break;
    }
    return client;
}

}  // namespace tb::http
