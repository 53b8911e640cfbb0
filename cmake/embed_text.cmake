# Script mode: writes OUT, a C++ file defining `std::string_view SYMBOL()` that returns the
# text of FILE (e.g. docs/openapi.yaml, so the binary serves the document it was built with).
file(READ ${FILE} text)
string(FIND "${text}" ")tbtext\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${FILE} contains the raw-string delimiter )tbtext\"")
endif()
file(WRITE ${OUT} "// Generated from ${FILE}; do not edit.\n#include <string_view>\n\nnamespace tb {\nstd::string_view ${SYMBOL}() {\n    static const char kText[] = R\"tbtext(${text})tbtext\";\n    return std::string_view(kText, sizeof kText - 1);\n}\n}  // namespace tb\n")
