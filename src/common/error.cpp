#include "common/error.h"

namespace tb {

std::string_view ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return "BAD_REQUEST";
        case ErrorCode::kUnauthorized:
            return "UNAUTHORIZED";
        case ErrorCode::kForbidden:
            return "FORBIDDEN";
        case ErrorCode::kNotFound:
            return "NOT_FOUND";
        case ErrorCode::kMethodNotAllowed:
            return "METHOD_NOT_ALLOWED";
        case ErrorCode::kConflict:
            return "CONFLICT";
        case ErrorCode::kPreconditionFailed:
            return "PRECONDITION_FAILED";
        case ErrorCode::kPayloadTooLarge:
            return "PAYLOAD_TOO_LARGE";
        case ErrorCode::kUnsupportedMediaType:
            return "UNSUPPORTED_MEDIA_TYPE";
        case ErrorCode::kValidation:
            return "VALIDATION_ERROR";
        case ErrorCode::kQuotaExceeded:
            return "QUOTA_EXCEEDED";
        case ErrorCode::kRateLimited:
            return "RATE_LIMITED";
        case ErrorCode::kHeadersTooLarge:
            return "HEADERS_TOO_LARGE";
        case ErrorCode::kInternal:
            return "INTERNAL_ERROR";
        case ErrorCode::kUnavailable:
            return "UNAVAILABLE";
        case ErrorCode::kQueryTimeout:
            return "QUERY_TIMEOUT";
        case ErrorCode::kRangeNotSatisfiable:
            return "RANGE_NOT_SATISFIABLE";
    }
    return "INTERNAL_ERROR";
}

namespace {
Error Make(ErrorCode code, std::string message) {
    Error e;
    e.code = code;
    e.message = std::move(message);
    return e;
}
}  // namespace

Error Error::BadRequest(std::string message, std::string field) {
    Error e = Make(ErrorCode::kBadRequest, std::move(message));
    if (!field.empty()) e.details["field"] = field;
    return e;
}
Error Error::Unauthorized(std::string message) {
    return Make(ErrorCode::kUnauthorized, std::move(message));
}
Error Error::Forbidden(std::string message) {
    return Make(ErrorCode::kForbidden, std::move(message));
}
Error Error::NotFound(std::string message) {
    return Make(ErrorCode::kNotFound, std::move(message));
}
Error Error::Conflict(std::string message, std::string field) {
    Error e = Make(ErrorCode::kConflict, std::move(message));
    if (!field.empty()) e.details["field"] = field;
    return e;
}
Error Error::RateLimited(std::string message, int retry_after_seconds) {
    Error e = Make(ErrorCode::kRateLimited, std::move(message));
    e.retry_after_seconds = retry_after_seconds;
    return e;
}
Error Error::QuotaExceeded(std::string message, std::string limit, int64_t value) {
    Error e = Make(ErrorCode::kQuotaExceeded, std::move(message));
    e.details["limit"] = limit;
    e.details["value"] = value;
    return e;
}
Error Error::Validation(std::string field, std::string message) {
    Error e = Make(ErrorCode::kValidation, std::move(message));
    e.details["field"] = field;
    return e;
}
Error Error::PayloadTooLarge(std::string message) {
    return Make(ErrorCode::kPayloadTooLarge, std::move(message));
}
Error Error::UnsupportedMediaType(std::string message) {
    return Make(ErrorCode::kUnsupportedMediaType, std::move(message));
}
Error Error::Unavailable(std::string message, std::string internal) {
    Error e = Make(ErrorCode::kUnavailable, std::move(message));
    e.internal = std::move(internal);
    return e;
}
Error Error::StorageFull(std::string internal) {
    Error e = Unavailable("Storage is full; try again later", std::move(internal));
    e.retry_after_seconds = 30;
    return e;
}
Error Error::QueryTimeout(std::string internal) {
    Error e = Make(ErrorCode::kQueryTimeout,
                   "The query took too long and was stopped: narrow it with filters, use an index "
                   "(the collection's indexes), or page with a cursor");
    e.internal = std::move(internal);
    return e;
}
Error Error::Internal(std::string internal) {
    Error e = Make(ErrorCode::kInternal, "Internal error");
    e.internal = std::move(internal);
    return e;
}

Error&& Error::WithDetail(std::string_view key, boost::json::value value) && {
    details[key] = std::move(value);
    return std::move(*this);
}

}  // namespace tb
