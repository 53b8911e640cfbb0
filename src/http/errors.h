#pragma once
// The one table from ErrorCode to HTTP status, and the error envelope (API.md §1.1).

#include <string_view>

#include "common/error.h"
#include "http/message.h"

namespace tb::http {

int HttpStatus(ErrorCode code);

// The body of an error in a compatibility dialect (API.md §11): the headers stay
// ErrorResponse's; the JSON differs, and the status may (`status` holds the /v1 one on entry:
// RestDB answers a validation error 400, not 422). Null: the /v1 envelope.
using ErrorBody = std::string (*)(const Error& error, std::string_view request_id, int& status);

// {"success":false,"error":{code,message[,details]},"request_id":…} (or `body`'s text) with the
// status of the code, WWW-Authenticate on 401 and Retry-After when the error carries one.
Response ErrorResponse(const Error& error, std::string_view request_id, ErrorBody body = nullptr);

}  // namespace tb::http
