#pragma once
// For fuzz targets only (*_fuzz.cpp): an invariant that must hold for every input. A broken
// one says which on stderr and aborts, which libFuzzer reports as a crash with the input.

#include <cstdio>
#include <cstdlib>

namespace tb {

inline void FuzzCheck(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace tb
