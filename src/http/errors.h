#pragma once
// The one table from ErrorCode to HTTP status, and the error envelope (API.md §1.1).

#include <string_view>

#include "common/error.h"
#include "http/message.h"

namespace tb::http {

int HttpStatus(ErrorCode code);
// {"success":false,"error":{code,message[,details]},"request_id":…} with the status of the
// code, WWW-Authenticate on 401 and Retry-After when the error carries one.
Response ErrorResponse(const Error& error, std::string_view request_id);

}  // namespace tb::http
