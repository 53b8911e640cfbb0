// tenantbase: the whole server in one binary. main only calls the composition root.
#include "app/cli.h"

int main(int argc, char** argv) { return tb::app::RunCli(argc, argv); }
