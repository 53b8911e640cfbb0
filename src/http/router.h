#pragma once
// The router: path templates with {named} segments, matched segment by segment (literal
// segments win over parameters). Knows which methods a path allows, for 405 and its Allow.
//
// Thread safety: built before the server starts, then read-only.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/task.h"
#include "http/errors.h"
#include "http/message.h"

namespace tb::http {

enum class BodyKind {
    kNone,  // no body expected (one sent is read and ignored)
    kJson,  // application/json (and merge-patch+json): parsed before the handler runs
    kRaw,   // anything: the handler reads request.body
    // Anything, not read before the handler: the handler reads request.body_stream. The
    // route's max_body is its limit, even above the server's (uploads).
    kStream,
};

struct RouteContext {
    std::string request_id;
    std::string_view route;  // the template, e.g. /v1/collections/{name}
    int route_index = -1;    // Route::index
    std::vector<std::pair<std::string_view, std::string>> params;
    json::value body;  // parsed JSON body for kJson routes (null when the body was empty)
    // Why the body of a kJson route could not be read (415, 400). Kept for the handler, which
    // answers it only after credentials and visibility (API.md §13 "Precedence of errors").
    std::optional<Error> body_error;
    // Set by the api layer when the request's credentials allow its Origin (a CORS key): the
    // response then carries Access-Control-Allow-Origin.
    bool cors_allowed = false;
    // Set by the api layer to the tenant a credential names (a token's tid, a key's tenant):
    // on a route that acts on no tenant, the origins of that tenant are the allowed ones.
    std::string cors_tenant;
    // How this request's errors are written: its dialect's body (API.md §11), or null for
    // the /v1 envelope. Set by the pipeline from the path.
    ErrorBody error_body = nullptr;
    // What the api layer learned about the request, for rate limits and metering: the tenant
    // it acted in (empty: none), its user and API key, the documents it wrote, and the budget
    // it was charged to (the X-RateLimit-* headers).
    struct Account {
        int64_t documents_written = 0;
        bool charged = false;
        int64_t limit = 0, remaining = 0, reset = 0;
        // The tenant's budget, when one was charged too (0: none).
        int64_t tenant_limit = 0, tenant_remaining = 0;

        // The three ids share one buffer: every metered request sets them (one allocation).
        void SetIds(std::string_view tenant, std::string_view user, std::string_view key) {
            ids_.clear();
            ids_.reserve(tenant.size() + user.size() + key.size());
            ids_.append(tenant).append(user).append(key);
            tenant_len_ = tenant.size();
            user_len_ = user.size();
        }
        std::string_view tenant_id() const { return std::string_view(ids_).substr(0, tenant_len_); }
        std::string_view user_id() const {
            return std::string_view(ids_).substr(tenant_len_, user_len_);
        }
        std::string_view key_id() const {
            return std::string_view(ids_).substr(tenant_len_ + user_len_);
        }

      private:
        std::string ids_;
        size_t tenant_len_ = 0, user_len_ = 0;
    } account;

    // The JSON body as an object: the body error if there was one, else VALIDATION_ERROR when
    // the body is not an object.
    Result<json::object*> JsonObject();
    // A path parameter by name ("" when absent).
    std::string_view Param(std::string_view name) const;
};

using Handler = std::function<Task<Response>(Request&, RouteContext&)>;

struct Route {
    Method method;
    std::string path;
    Handler handler;
    BodyKind body = BodyKind::kNone;
    size_t max_body = 0;  // 0: the server's limit
    int index = 0;        // position in the table: metrics label
    // Acts on no tenant's data (accounts, plans, health, docs): CORS allows the origins of the
    // tenant the request names, or, when it names none, any origin known anywhere
    // (CorsPolicy::AllowsOutsideTenant).
    bool tenantless = false;
};

struct RouteMatch {
    const Route* route = nullptr;  // null: no route for this method (see path_exists)
    bool path_exists = false;      // some method matches this path -> 405, not 404
    std::vector<std::pair<std::string_view, std::string>> params;
    std::string allow;  // "GET, HEAD, POST" when path_exists
};

class Router {
  public:
    Router();
    ~Router();
    // Adds a route; returns its index. Aborts on a duplicate (a bug in the route table).
    int Add(Route route);
    // segments: the request path's decoded segments. HEAD matches GET routes.
    RouteMatch Find(Method method, const std::vector<std::string>& segments) const;
    const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  private:
    struct Node;
    // Depth-first: literal first, then the parameter, so /v1/users/me beats /v1/users/{id}.
    static const Node* Walk(const Node* node, const std::vector<std::string>& segments, size_t i,
                            std::vector<std::pair<std::string_view, std::string>>& params);
    std::unique_ptr<Node> root_;
    std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace tb::http
