#include "files/file_links.h"

#include "common/encoding.h"
#include "storage/instance_secrets.h"

namespace tb::files {

namespace {
// std::strings, not literals: a literal would become a temporary std::string in a co_await,
// which GCC 12 mishandles.
const std::string kCurrent = "file_links";
const std::string kPrevious = "file_links.previous";
}  // namespace

Task<Status> FileLinks::Load(storage::Database& db) {
    TB_CO_ASSIGN_OR_RETURN(std::string current, co_await storage::InstanceSecret(db, kCurrent));
    auto rows = co_await db.Query("SELECT value FROM instance_secrets WHERE name = ?",
                                  storage::Bind(kPrevious));
    if (!rows.ok()) co_return std::move(rows).error();
    std::string previous = rows->empty() ? std::string() : storage::AsText(rows->rows[0][0]);
    std::lock_guard lock(mu_);
    current_ = std::move(current);
    previous_ = std::move(previous);
    co_return Status{};
}

Task<Status> FileLinks::Rotate(storage::Database& db) {
    TB_CO_ASSIGN_OR_RETURN(std::string current, co_await storage::InstanceSecret(db, kCurrent));
    std::string fresh = RandomToken(32);
    const storage::TransactionFn fn = [&](storage::Session& tx) -> Task<Status> {
        auto kept = co_await tx.Execute(
            "INSERT INTO instance_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
            "UPDATE SET value = excluded.value",
            storage::Bind(kPrevious, current));
        if (!kept.ok()) co_return std::move(kept).error();
        auto made = co_await tx.Execute("UPDATE instance_secrets SET value = ? WHERE name = ?",
                                        storage::Bind(fresh, kCurrent));
        if (!made.ok()) co_return std::move(made).error();
        co_return Status{};
    };
    co_return co_await db.Transaction(fn);
}

std::string FileLinks::SignWith(const std::string& secret, std::string_view tenant_id,
                                std::string_view file_id, int64_t expires) {
    std::string data;
    data.append(tenant_id).append("/").append(file_id).append("/").append(std::to_string(expires));
    std::string mac = HmacSha256(secret, data);
    return Base64UrlEncode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(mac.data()), mac.size()));
}

std::string FileLinks::Sign(std::string_view tenant_id, std::string_view file_id,
                            int64_t expires) const {
    std::lock_guard lock(mu_);
    return SignWith(current_, tenant_id, file_id, expires);
}

bool FileLinks::Verify(std::string_view tenant_id, std::string_view file_id, int64_t expires,
                       std::string_view signature) const {
    std::string current, previous;
    {
        std::lock_guard lock(mu_);
        current = current_;
        previous = previous_;
    }
    bool ok = !current.empty() &&
              ConstantTimeEquals(SignWith(current, tenant_id, file_id, expires), signature);
    if (!previous.empty())
        ok = ConstantTimeEquals(SignWith(previous, tenant_id, file_id, expires), signature) || ok;
    return ok;
}

}  // namespace tb::files
