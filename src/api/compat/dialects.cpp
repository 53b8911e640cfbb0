#include "api/compat/dialects.h"

#include <boost/url/parse_query.hpp>

#include "auth/api_key_service.h"
#include "common/json.h"
#include "common/strings.h"

namespace tb::api::compat {

std::string NiluxErrorBody(const Error& error, std::string_view, int&) {
    // FastAPI's shape; the seed's clients read `detail` as a string, for 422 too.
    std::string out = R"({"detail":)";
    AppendJsonString(out, error.message);
    out += '}';
    return out;
}

std::string NileErrorBody(const Error& error, std::string_view, int& status) {
    json::object body{{"errorCode", ToLower(ErrorCodeName(error.code))},
                      {"message", error.message},
                      {"statusCode", status}};
    return WriteJson(body);
}

namespace {

// The error names RestDB's clients see, by status.
std::string_view RestDbName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kUnauthorized:
            return "UnauthorizedError";
        case ErrorCode::kForbidden:
            return "ForbiddenError";
        case ErrorCode::kNotFound:
            return "NotFoundError";
        case ErrorCode::kConflict:
            return "DuplicateError";
        case ErrorCode::kRateLimited:
            return "RateLimitError";
        case ErrorCode::kQuotaExceeded:
            return "QuotaError";
        case ErrorCode::kInternal:
        case ErrorCode::kUnavailable:
        case ErrorCode::kQueryTimeout:
            return "ServerError";
        default:
            return "BadRequestError";
    }
}

}  // namespace

std::string RestDbErrorBody(const Error& error, std::string_view, int& status) {
    json::object body;
    if (error.code == ErrorCode::kValidation) {
        status = 400;
        const auto* field = error.details.if_contains("field");
        json::object item{{"field", field && field->is_string() ? field->get_string() : ""},
                          {"message", json::array{json::value(error.message)}}};
        body = {{"name", "ValidationError"},
                {"list", json::array{std::move(item)}},
                {"message", error.message},
                {"status", status}};
    } else {
        body = {{"name", RestDbName(error.code)}, {"message", error.message}, {"status", status}};
    }
    return WriteJson(body);
}

std::optional<Error> PrepareRestDb(http::Request& request, bool allow_query_key) {
    std::string_view authorization = Trim(request.headers.Get("authorization"));
    bool has_key = request.headers.Has("x-api-key");
    // The seed's form: the key itself as the Authorization value (no scheme).
    if (!authorization.empty() && auth::LooksLikeApiKey(authorization)) {
        request.headers.Set("authorization", "Bearer " + std::string(authorization));
        has_key = true;
    } else if (!authorization.empty()) {
        has_key = true;  // a Bearer token (or something the resolver refuses with 401)
    }
    if (!has_key) {
        std::string_view key = Trim(request.headers.Get("x-apikey"));
        if (!key.empty()) {
            request.headers.Add("X-API-Key", std::string(key));
            has_key = true;
        }
    }
    if (request.query.find("apikey") == std::string::npos) return std::nullopt;
    auto params = boost::urls::parse_query(request.query);
    // A query that may hold the key but cannot be read: refused as malformed (400), not
    // left to look like a request without credentials (401).
    if (!params) return Error::BadRequest("Malformed query string", "query");
    std::string key, rest;
    bool found = false;
    for (auto param : *params) {
        if (param.key.decode() == "apikey") {
            found = true;
            key = param.has_value ? param.value.decode() : std::string();
            continue;
        }
        if (!rest.empty()) rest += '&';
        rest += std::string_view(param.key.data(), param.key.size());
        if (param.has_value) rest += '=' + std::string(param.value.data(), param.value.size());
    }
    if (!found) return std::nullopt;
    if (!allow_query_key) {
        return Error::Unauthorized(
            "API keys in the URL are turned off (compat.restdb.allow_query_key): send the "
            "x-apikey header");
    }
    request.query = std::move(rest);
    if (!has_key && !key.empty()) request.headers.Add("X-API-Key", std::move(key));
    return std::nullopt;
}

std::vector<http::Dialect> Dialects(const CompatSettings& settings) {
    bool allow = settings.restdb_allow_query_key;
    auto restdb = [allow](http::Request& r) { return PrepareRestDb(r, allow); };
    return {
        {"api", NiluxErrorBody, {}},       {"workspaces", NileErrorBody, {}},
        {"rest", RestDbErrorBody, restdb}, {"media", RestDbErrorBody, restdb},
        {"mail", RestDbErrorBody, restdb},
    };
}

}  // namespace tb::api::compat
