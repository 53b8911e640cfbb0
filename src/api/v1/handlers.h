#pragma once
// Handler factories, one group per resource file under api/v1/.

#include "api/services.h"
#include "http/router.h"

namespace tb::api::v1 {

// ops.cpp: health, liveness, readiness, metrics (API.md §10).
http::Handler Health(Services& s);
http::Handler Liveness(Services& s);
http::Handler Readiness(Services& s);
http::Handler MetricsText(Services& s);

// auth.cpp: accounts and sessions (API.md §2).
http::Handler Register(Services& s);
http::Handler Login(Services& s);
http::Handler Refresh(Services& s);
http::Handler Logout(Services& s);
http::Handler Me(Services& s);
http::Handler UpdateMe(Services& s);
http::Handler ChangePassword(Services& s);
http::Handler Jwks(Services& s);

// audit.cpp: the audit log (API.md §9).
http::Handler ListAuditLogs(Services& s);

// api_keys.cpp: API keys (API.md §4).
http::Handler ListApiKeys(Services& s);
http::Handler CreateApiKey(Services& s);
http::Handler GetApiKey(Services& s);
http::Handler UpdateApiKey(Services& s);
http::Handler DeleteApiKey(Services& s);
http::Handler RotateApiKey(Services& s);

}  // namespace tb::api::v1
