#pragma once

#include "app/config.h"
#include "auth/auth_service.h"
#include "auth/password.h"

namespace tb::app {

// `tenantbase serve`: runs until SIGTERM/SIGINT, then drains and returns the exit code.
int Serve(const Config& config);
// The auth parts of the configuration, for serve and the CLI.
auth::PasswordParams PasswordParamsOf(const Config& config);
auth::AuthSettings AuthSettingsOf(const Config& config);

}  // namespace tb::app
