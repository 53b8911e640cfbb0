#include "http/router.h"

#include <cstdlib>

namespace tb::http {

Result<json::object*> RouteContext::JsonObject() {
    if (body_error) return *body_error;
    return RequireObject(body);
}

std::string_view RouteContext::Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) return v;
    }
    return {};
}

struct Router::Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
    std::unique_ptr<Node> param;
    std::string param_name;
    std::map<Method, const Route*> methods;
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

namespace {
std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> out;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (!path.empty()) {
        size_t slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}
}  // namespace

int Router::Add(Route route) {
    Node* node = root_.get();
    for (std::string_view seg : SplitPath(route.path)) {
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            std::string name(seg.substr(1, seg.size() - 2));
            if (!node->param) {
                node->param = std::make_unique<Node>();
                node->param_name = name;
            } else if (node->param_name != name) {
                std::abort();  // two names for one parameter position: fix the route table
            }
            node = node->param.get();
        } else {
            auto& child = node->literals[std::string(seg)];
            if (!child) child = std::make_unique<Node>();
            node = child.get();
        }
    }
    if (node->methods.count(route.method)) std::abort();  // duplicate route
    route.index = static_cast<int>(routes_.size());
    routes_.push_back(std::make_unique<Route>(std::move(route)));
    node->methods[routes_.back()->method] = routes_.back().get();
    return routes_.back()->index;
}

const Router::Node* Router::Walk(const Node* n, const std::vector<std::string>& segments, size_t i,
                                 std::vector<std::pair<std::string_view, std::string>>& params) {
    if (i == segments.size()) return n->methods.empty() ? nullptr : n;
    if (auto it = n->literals.find(segments[i]); it != n->literals.end()) {
        if (const Node* found = Walk(it->second.get(), segments, i + 1, params)) return found;
    }
    if (n->param && !segments[i].empty()) {
        params.emplace_back(n->param_name, segments[i]);
        if (const Node* found = Walk(n->param.get(), segments, i + 1, params)) return found;
        params.pop_back();
    }
    return nullptr;
}

RouteMatch Router::Find(Method method, const std::vector<std::string>& segments) const {
    RouteMatch m;
    std::vector<std::pair<std::string_view, std::string>> params;
    const Node* node = Walk(root_.get(), segments, 0, params);
    if (!node) return m;
    m.path_exists = true;
    Method wanted = method == Method::kHead ? Method::kGet : method;
    if (auto it = node->methods.find(wanted); it != node->methods.end()) {
        m.route = it->second;
        m.params = std::move(params);
        return m;
    }
    for (const auto& [verb, route] : node->methods) {
        if (!m.allow.empty()) m.allow += ", ";
        m.allow += MethodName(verb);
        if (verb == Method::kGet) m.allow += ", HEAD";
    }
    return m;
}

}  // namespace tb::http
