// Fuzz target: If-Match / If-None-Match values (http/entity_tags.h). Beyond "no crash": a
// list that parses without fault is written back and parsed again to the same list; every
// member is counted; a malformed list matches nothing, and `*` matches every tag.
#include <cstdint>
#include <string_view>

#include "common/fuzz_check.h"
#include "http/entity_tags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    const tb::http::EntityTagList list = tb::http::ParseEntityTags(header);
    tb::FuzzCheck(list.members >= list.tags.size() + (list.any ? 1 : 0), "members undercounted");
    for (const auto& t : list.tags)
        tb::FuzzCheck(t.opaque.find('"') == std::string::npos, "a quote inside an opaque tag");
    if (list.malformed) {
        tb::FuzzCheck(!tb::http::ListsTagWeakly(list, "\"1\""), "a malformed list matched");
        return 0;
    }
    const std::string written = tb::http::FormatEntityTags(list);
    const tb::http::EntityTagList again = tb::http::ParseEntityTags(written);
    tb::FuzzCheck(again.any == list.any && again.tags == list.tags && !again.malformed,
                  "the list written back parses to another");
    if (list.any) tb::FuzzCheck(tb::http::ListsTagWeakly(list, "\"x\""), "* did not match");
    for (const auto& t : list.tags) {
        const std::string strong = "\"" + t.opaque + "\"";
        tb::FuzzCheck(tb::http::ListsTagWeakly(list, strong), "a listed tag did not match");
        tb::FuzzCheck(tb::http::ListsTagWeakly(list, "W/" + strong), "weak comparison failed");
    }
    return 0;
}
