#pragma once
// The one error type. An Error carries a code independent of HTTP (http/ maps codes to
// statuses in one table), a public message safe to show to a client, an internal message that
// is only logged, and optional details (e.g. the failing field). Neither message ever holds a
// password, token or key.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace tb {

enum class ErrorCode {
    kBadRequest,
    kUnauthorized,
    kForbidden,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kPreconditionFailed,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kValidation,
    kQuotaExceeded,
    kRateLimited,
    kHeadersTooLarge,
    kInternal,
    kUnavailable,
    kQueryTimeout,  // a statement passed query.timeout_ms (503)
    kRangeNotSatisfiable,  // a Range that starts past the end of a file (416)
};

// Every enumerator, for tables and tests that must walk them all.
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kBadRequest,         ErrorCode::kUnauthorized,     ErrorCode::kForbidden,
    ErrorCode::kNotFound,           ErrorCode::kMethodNotAllowed, ErrorCode::kConflict,
    ErrorCode::kPreconditionFailed, ErrorCode::kPayloadTooLarge,  ErrorCode::kUnsupportedMediaType,
    ErrorCode::kValidation,         ErrorCode::kQuotaExceeded,    ErrorCode::kRateLimited,
    ErrorCode::kHeadersTooLarge,    ErrorCode::kInternal,         ErrorCode::kUnavailable,
    ErrorCode::kQueryTimeout,       ErrorCode::kRangeNotSatisfiable,
};

// The public code string of the error envelope, e.g. "VALIDATION_ERROR".
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;   // public
    std::string internal;  // logged with the request id, never sent
    boost::json::object details;
    std::optional<int> retry_after_seconds;  // for kRateLimited / kUnavailable
    // A refusal for want of rights that answers 404 so as not to reveal what it hides (another
    // tenant): audited as access.denied, as every 403 is (issue #29). Never sent.
    bool access_denied = false;

    static Error BadRequest(std::string message, std::string field = {});
    static Error Unauthorized(std::string message = "Authentication required");
    static Error Forbidden(std::string message = "Forbidden");
    static Error NotFound(std::string message = "Not found");
    static Error Conflict(std::string message, std::string field = {});
    static Error Validation(std::string field, std::string message);
    static Error PayloadTooLarge(std::string message = "Request body too large");
    static Error UnsupportedMediaType(std::string message);
    static Error Unavailable(std::string message, std::string internal = {});
    // No space left for a write (a full disk or quota: ENOSPC, SQLITE_FULL, PostgreSQL's
    // 53100): 503 with Retry-After, for the operator to fix; reads go on (issue #24).
    static Error StorageFull(std::string internal);
    // 503 QUERY_TIMEOUT: a statement ran past its deadline and was stopped (rolled back).
    static Error QueryTimeout(std::string internal = {});
    // 429 with Retry-After.
    static Error RateLimited(std::string message, int retry_after_seconds);
    // 402: a plan limit (`limit` names it, e.g. "max_documents", with its value) is reached.
    static Error QuotaExceeded(std::string message, std::string limit, int64_t value);
    // A failure that is our fault: the client sees only "Internal error".
    static Error Internal(std::string internal);

    Error&& WithDetail(std::string_view key, boost::json::value value) &&;
};

}  // namespace tb
