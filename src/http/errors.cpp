#include "http/errors.h"

#include "common/json.h"
#include "common/log.h"

namespace tb::http {

int HttpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return 400;
        case ErrorCode::kUnauthorized:
            return 401;
        case ErrorCode::kQuotaExceeded:
            return 402;
        case ErrorCode::kForbidden:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kPreconditionFailed:
            return 412;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMediaType:
            return 415;
        case ErrorCode::kValidation:
            return 422;
        case ErrorCode::kRateLimited:
            return 429;
        case ErrorCode::kRangeNotSatisfiable:
            return 416;
        case ErrorCode::kHeadersTooLarge:
            return 431;
        case ErrorCode::kInternal:
            return 500;
        case ErrorCode::kUnavailable:
        case ErrorCode::kQueryTimeout:
            return 503;
    }
    return 500;
}

namespace {

std::string EnvelopeBody(const Error& error, std::string_view request_id, int&) {
    json::object err;
    err["code"] = ErrorCodeName(error.code);
    err["message"] = error.message;
    if (!error.details.empty()) err["details"] = error.details;
    json::object body;
    body["success"] = false;
    body["error"] = std::move(err);
    body["request_id"] = request_id;
    return WriteJson(body);
}

}  // namespace

Response ErrorResponse(const Error& error, std::string_view request_id, ErrorBody body) {
    if (error.code == ErrorCode::kInternal) {
        // The client sees "Internal error"; the operator needs the cause, with the request id.
        log::Error("internal error",
                   {{"request_id", std::string(request_id)}, {"detail", error.internal}});
    }
    int status = HttpStatus(error.code);
    std::string text = (body ? body : EnvelopeBody)(error, request_id, status);
    Response r = Response::Json(status, std::move(text));
    r.access_denied = error.access_denied || error.code == ErrorCode::kForbidden;
    if (error.code == ErrorCode::kUnauthorized) r.headers.Add("WWW-Authenticate", "Bearer");
    if (error.retry_after_seconds) {
        r.headers.Add("Retry-After", std::to_string(*error.retry_after_seconds));
    }
    return r;
}

}  // namespace tb::http
