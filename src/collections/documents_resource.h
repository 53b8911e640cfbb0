#pragma once
// What the documents list endpoint declares to the list parser (query/list_query.h): its
// system fields, `q`, hints, open projections and path filters. Its own file so that the
// list query fuzz target reads documents lists exactly as the endpoint does.

#include "query/list_query.h"

namespace tb::collections {

// The declared list fields of documents: the system fields (filters on the client's fields
// come with the query language).
const query::Resource& DocumentsResource();

}  // namespace tb::collections
