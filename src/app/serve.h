#pragma once

#include "app/config.h"

namespace tb::app {

// `tenantbase serve`: runs until SIGTERM/SIGINT, then drains and returns the exit code.
int Serve(const Config& config);

}  // namespace tb::app
