#pragma once
// Signed links to a file's content (docs/api.md §14 "Files"): a URL usable without
// credentials until it expires, for `<img src>` and downloads in a browser. The query carries
// the tenant, the expiry and an HMAC-SHA256 over tenant, file id and expiry under an instance
// secret, so no part can be changed without the signature failing.
//
// Secrets live in instance_secrets ("file_links", and "file_links.previous" after a rotation)
// so that every node of a cluster signs and checks alike. `tenantbase keys rotate` rotates
// them; a link signed with the previous secret keeps working until it expires (links live at
// most 7 days, and one rotation keeps one previous secret). Nodes reload the secrets now and
// then (Load), as they do the token signing keys.
//
// Thread safety: Sign and Verify may run on every thread while Load replaces the secrets.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/database.h"

namespace tb::files {

class FileLinks {
  public:
    static constexpr int64_t kDefaultSeconds = 3600;
    static constexpr int64_t kMaxSeconds = int64_t{7} * 24 * 3600;

    // Reads the secrets, creating the first one on first use.
    Task<Status> Load(storage::Database& db);
    // The current secret becomes the previous one; a new one is made.
    static Task<Status> Rotate(storage::Database& db);

    // The signature of a link to a file, expiring at `expires` (Unix seconds).
    std::string Sign(std::string_view tenant_id, std::string_view file_id, int64_t expires) const;
    // Whether `signature` is that of the link under the current or the previous secret
    // (compared in constant time). Expiry is the caller's check.
    bool Verify(std::string_view tenant_id, std::string_view file_id, int64_t expires,
                std::string_view signature) const;

  private:
    static std::string SignWith(const std::string& secret, std::string_view tenant_id,
                                std::string_view file_id, int64_t expires);
    mutable std::mutex mu_;
    std::string current_, previous_;  // guarded by mu_
};

}  // namespace tb::files
