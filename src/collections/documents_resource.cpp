#include "collections/documents_resource.h"

namespace tb::collections {

const query::Resource& DocumentsResource() {
    using query::Type;
    static const query::Resource r{"documents",
                                   "d.id",
                                   {{"_id", "d.id", Type::kId},
                                    {"_created", "d.created_at", Type::kTime},
                                    {"_changed", "d.changed_at", Type::kTime},
                                    {"_createdby", "d.created_by", Type::kText, true},
                                    {"_changedby", "d.changed_by", Type::kText, true},
                                    {"_version", "d.version", Type::kInt},
                                    {"_org", "d.org_id", Type::kText, true}},
                                   {"q"},
                                   /*hints=*/true,
                                   /*open_projection=*/true,
                                   /*open_filters=*/true};
    return r;
}

}  // namespace tb::collections
