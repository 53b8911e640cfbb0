#include "http/client_ip.h"

#include <gtest/gtest.h>

namespace tb::http {
namespace {

TEST(TrustedProxies, PeerIsTheClientUnlessItIsTrusted) {
    auto t = TrustedProxies::Parse({"10.0.0.0/8", "::1"}).value();
    EXPECT_EQ(t.ClientIp("203.0.113.7", "198.51.100.1"), "203.0.113.7");
    EXPECT_EQ(t.ClientIp("10.1.2.3", "198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(t.ClientIp("::1", "198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(t.ClientIp("10.1.2.3", ""), "10.1.2.3");
}

TEST(TrustedProxies, ReadsFromTheRightAndSkipsTrustedHops) {
    auto t = TrustedProxies::Parse({"10.0.0.0/8"}).value();
    // The client wrote "1.1.1.1" itself; the proxy chain appended the real address.
    EXPECT_EQ(t.ClientIp("10.0.0.1", "1.1.1.1, 198.51.100.9, 10.0.0.2"), "198.51.100.9");
    // Every hop trusted: the leftmost.
    EXPECT_EQ(t.ClientIp("10.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
    // Garbage stops the walk at the last good hop.
    EXPECT_EQ(t.ClientIp("10.0.0.1", "junk, 10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(t.ClientIp("10.0.0.1", "<script>"), "10.0.0.1");
}

TEST(TrustedProxies, RejectsBadEntries) {
    EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/33"}).ok());
    EXPECT_FALSE(TrustedProxies::Parse({"example.com"}).ok());
    EXPECT_TRUE(TrustedProxies::Parse({"fd00::/8", "192.168.1.1"}).ok());
}

}  // namespace
}  // namespace tb::http
