#pragma once
// A document filter (doc_filter.h) evaluated in memory against one stored document body: the
// reference semantics that the SQL of storage/doc_sql is held to (the doc_filter fuzz target
// compares the two on random documents and queries), and what realtime subscriptions match
// changed documents with, so that a subscription and a list agree on which documents match.

#include <memory>
#include <string>
#include <unordered_map>

#include "common/json.h"
#include "query/doc_filter.h"

namespace re2 {
class RE2;
}

namespace tb::query {

class DocMatcher {
  public:
    // Compiles the filter's $regex patterns once (they are canonical: doc_regex.h).
    explicit DocMatcher(DocFilter filter);
    ~DocMatcher();
    DocMatcher(DocMatcher&&) noexcept;
    DocMatcher& operator=(DocMatcher&&) noexcept;

    // Whether the document matches. `body` is the stored body (collections/document.h
    // RenderDocument): the client's fields with the system fields (`_id`, `_version`…), which
    // a query may name and kAnyTextContains skips.
    bool Matches(const json::object& body) const;

    const DocFilter& filter() const { return filter_; }

  private:
    DocFilter filter_;
    std::unordered_map<std::string, std::unique_ptr<re2::RE2>> patterns_;
};

}  // namespace tb::query
