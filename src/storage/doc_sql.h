#pragma once
// Compiles a document filter (query/doc_filter.h) into one SQL condition over documents
// aliased `d`, through the Dialect, with every operand a parameter.

#include <string>

#include "query/doc_filter.h"
#include "storage/dialect.h"
#include "storage/value.h"

namespace tb::storage {

// The condition, its parameters appended to `params` in order.
std::string CompileDocFilter(const Dialect& dialect, const query::DocFilter& filter,
                             Params& params);

}  // namespace tb::storage
