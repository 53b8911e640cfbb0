// The text renderers of shared objects write exactly what their json::value counterparts
// serialise to, hostile strings and nulls included.
#include "api/render.h"

#include <gtest/gtest.h>

namespace tb::api {
namespace {

TEST(Render, UserTextIsTheUserObject) {
    auth::User u;
    u.id = "018b6216-27a1-7e2b-aa83-000000000001";
    u.email = "o'neil+\"x\"@example.com";
    u.name = std::string("Zo\xC3\xAB \\ \x01\n\t<script>", 17);
    u.email_verified = true;
    u.is_admin = true;
    u.created_at = 1'700'000'000'123;
    u.updated_at = 1'700'000'000'456;
    for (std::optional<int64_t> login : {std::optional<int64_t>{}, std::optional<int64_t>{42}}) {
        u.last_login_at = login;
        std::string text;
        AppendUserJson(text, u);
        EXPECT_EQ(text, json::serialize(UserJson(u)));
    }
}

TEST(Render, MembershipsTextIsTheMembershipArray) {
    std::vector<auth::TenantMembership> tenants;
    std::string text;
    AppendMembershipsJson(text, tenants);
    EXPECT_EQ(text, json::serialize(MembershipsJson(tenants)));
    auth::TenantMembership a;
    a.tenant_id = "t1";
    a.name = "Acme \"Inc\"";
    a.slug = "acme";
    a.role = "owner";
    a.plan = "free";
    tenants.push_back(a);
    a.tenant_id = "t2";
    a.name = "\x1f";
    tenants.push_back(a);
    text.clear();
    AppendMembershipsJson(text, tenants);
    EXPECT_EQ(text, json::serialize(MembershipsJson(tenants)));
}

}  // namespace
}  // namespace tb::api
