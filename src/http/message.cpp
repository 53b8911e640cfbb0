#include "http/message.h"

#include <algorithm>

#include "common/strings.h"

namespace tb::http {

std::string_view MethodName(Method m) {
    switch (m) {
        case Method::kGet:
            return "GET";
        case Method::kHead:
            return "HEAD";
        case Method::kPost:
            return "POST";
        case Method::kPut:
            return "PUT";
        case Method::kPatch:
            return "PATCH";
        case Method::kDelete:
            return "DELETE";
        case Method::kOptions:
            return "OPTIONS";
        case Method::kOther:
            return "OTHER";
    }
    return "OTHER";
}

Method ParseMethod(std::string_view t) {
    if (t == "GET") return Method::kGet;
    if (t == "HEAD") return Method::kHead;
    if (t == "POST") return Method::kPost;
    if (t == "PUT") return Method::kPut;
    if (t == "PATCH") return Method::kPatch;
    if (t == "DELETE") return Method::kDelete;
    if (t == "OPTIONS") return Method::kOptions;
    return Method::kOther;
}

std::string_view Headers::Get(std::string_view name) const {
    for (const Header& h : items_) {
        if (IEquals(h.name, name)) return h.value;
    }
    return {};
}

bool Headers::Has(std::string_view name) const {
    return std::any_of(items_.begin(), items_.end(),
                       [&](const Header& h) { return IEquals(h.name, name); });
}

void Headers::Set(std::string_view name, std::string value) {
    std::erase_if(items_, [&](const Header& h) { return IEquals(h.name, name); });
    items_.push_back({std::string(name), std::move(value)});
}

Response Response::Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.headers.Reserve(4);  // with an ETag, X-Request-ID and a CORS header: one allocation
    r.headers.Add("Content-Type", std::string(kJsonContentType));
    r.body = std::move(body);
    return r;
}

Response Response::Text(int status, std::string body) {
    Response r;
    r.status = status;
    r.headers.Add("Content-Type", "text/plain; charset=utf-8");
    r.body = std::move(body);
    return r;
}

Response Response::Empty(int status) {
    Response r;
    r.status = status;
    return r;
}

}  // namespace tb::http
