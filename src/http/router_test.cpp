#include "http/router.h"

#include <gtest/gtest.h>

namespace tb::http {
namespace {

Handler Noop() {
    return [](Request&, RouteContext&) -> Task<Response> { co_return Response::Empty(204); };
}

std::vector<std::string> Segs(std::initializer_list<const char*> s) { return {s.begin(), s.end()}; }

TEST(Router, MatchesLiteralsAndParams) {
    Router r;
    r.Add({Method::kGet, "/v1/users", Noop()});
    int me = r.Add({Method::kGet, "/v1/users/me", Noop()});
    int by_id = r.Add({Method::kGet, "/v1/users/{id}", Noop()});
    r.Add({Method::kDelete, "/v1/users/{id}", Noop()});
    int docs = r.Add({Method::kPost, "/v1/collections/{name}/documents:delete", Noop()});

    auto m = r.Find(Method::kGet, Segs({"v1", "users", "me"}));
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->index, me);

    m = r.Find(Method::kGet, Segs({"v1", "users", "42"}));
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->index, by_id);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].first, "id");
    EXPECT_EQ(m.params[0].second, "42");

    m = r.Find(Method::kPost, Segs({"v1", "collections", "items", "documents:delete"}));
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->index, docs);
}

TEST(Router, HeadMatchesGet) {
    Router r;
    r.Add({Method::kGet, "/v1/health", Noop()});
    EXPECT_NE(r.Find(Method::kHead, Segs({"v1", "health"})).route, nullptr);
}

TEST(Router, WrongMethodListsAllowed) {
    Router r;
    r.Add({Method::kGet, "/v1/users/{id}", Noop()});
    r.Add({Method::kPut, "/v1/users/{id}", Noop()});
    auto m = r.Find(Method::kPost, Segs({"v1", "users", "1"}));
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.path_exists);
    EXPECT_EQ(m.allow, "GET, HEAD, PUT");
}

TEST(Router, UnknownPathsAndEmptySegments) {
    Router r;
    r.Add({Method::kGet, "/v1/users/{id}", Noop()});
    EXPECT_FALSE(r.Find(Method::kGet, Segs({"v1", "nope"})).path_exists);
    EXPECT_FALSE(r.Find(Method::kGet, Segs({"v1", "users", ""})).path_exists);
    EXPECT_FALSE(r.Find(Method::kGet, Segs({"v1", "users", "1", "x"})).path_exists);
    EXPECT_FALSE(r.Find(Method::kGet, Segs({})).path_exists);
}

}  // namespace
}  // namespace tb::http
