#pragma once

namespace tb::app {

// The command line (API.md §12). Returns the process exit code: 0 ok, 1 failure,
// 2 bad usage or configuration.
int RunCli(int argc, char** argv);

}  // namespace tb::app
