#include "files/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/encoding.h"
#include "common/ids.h"
#include "common/log.h"

namespace tb::files {

namespace fs = std::filesystem;

namespace {

Error IoError(std::string_view what, const fs::path& path, int err) {
    std::string detail = std::string(what) + " " + path.string() + ": " + std::strerror(err);
    if (err == ENOSPC || err == EDQUOT) return Error::StorageFull(std::move(detail));
    return Error::Internal(std::move(detail));
}

// fsync of a directory, so that a rename or a new entry in it survives a crash.
Status SyncDir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError("open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return IoError("fsync", dir, err);
    return {};
}

// mkdir -p with each directory it creates fsync'd into its parent.
Status MakeDirs(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return {};
    TB_RETURN_IF_ERROR(MakeDirs(dir.parent_path()));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("mkdir", dir, errno);
    return SyncDir(dir.parent_path());
}

class LocalWriter final : public ContentWriter {
  public:
    LocalWriter(int fd, fs::path temp, fs::path final_path, WorkerPool& workers)
        : fd_(fd), temp_(std::move(temp)), final_(std::move(final_path)), workers_(workers) {}
    ~LocalWriter() override {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(temp_.c_str());
    }

    Task<Status> Write(std::string_view piece) override {
        while (!piece.empty()) {
            ssize_t n = ::write(fd_, piece.data(), piece.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) co_return IoError("write", temp_, errno);
            piece.remove_prefix(static_cast<size_t>(n));
        }
        co_return Status{};
    }

    Task<Status> Commit() override {
        // A named std::function, moved in: GCC 12 destroys a temporary one twice in co_await.
        // The descriptor stays ours (closed below), also when a full queue never runs the job.
        std::function<Result<bool>()> job = [fd = fd_, temp = temp_,
                                             dest = final_]() -> Result<bool> {
            if (::fsync(fd) != 0) return IoError("fsync", temp, errno);
            TB_RETURN_IF_ERROR(MakeDirs(dest.parent_path()));
            if (::rename(temp.c_str(), dest.c_str()) != 0) return IoError("rename", temp, errno);
            TB_RETURN_IF_ERROR(SyncDir(dest.parent_path()));
            return true;
        };
        auto done = co_await workers_.Run<bool>(std::move(job));
        ::close(std::exchange(fd_, -1));
        if (!done.ok()) co_return std::move(done).error();
        committed_ = true;
        co_return Status{};
    }

    Task<void> Abort() override {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
        if (!committed_) ::unlink(temp_.c_str());
        committed_ = true;  // nothing left to undo
        co_return;
    }

  private:
    int fd_;
    fs::path temp_, final_;
    WorkerPool& workers_;
    bool committed_ = false;
};

class LocalReader final : public ByteSource {
  public:
    LocalReader(int fd, uint64_t offset, uint64_t length)
        : fd_(fd), offset_(offset), left_(length) {}
    ~LocalReader() override { ::close(fd_); }

    Task<Result<size_t>> Read(std::span<char> into) override {
        size_t want = static_cast<size_t>(std::min<uint64_t>(into.size(), left_));
        if (want == 0) co_return size_t{0};
        while (true) {
            ssize_t n = ::pread(fd_, into.data(), want, static_cast<off_t>(offset_));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) co_return Error::Internal(std::string("pread: ") + std::strerror(errno));
            if (n == 0) co_return Error::Internal("a stored file is shorter than its row says");
            offset_ += static_cast<uint64_t>(n);
            left_ -= static_cast<uint64_t>(n);
            co_return static_cast<size_t>(n);
        }
    }

  private:
    int fd_;
    uint64_t offset_, left_;
};

}  // namespace

LocalStore::LocalStore(fs::path root, WorkerPool& workers)
    : root_(std::move(root)), root_text_(root_.string()), workers_(workers) {}

Status LocalStore::Open() {
    std::error_code ec;
    fs::create_directories(root_ / "tmp", ec);
    if (ec)
        return Error::Internal("cannot create " + (root_ / "tmp").string() + ": " + ec.message());
    return {};
}

std::string LocalContentPath(std::string_view root, std::string_view tenant_id,
                             std::string_view file_id) {
    // Both are UUIDs (the service checks a client's id before it gets here): no separators.
    std::string path;
    path.reserve(root.size() + tenant_id.size() + file_id.size() + 8);
    path.append(root).append("/").append(tenant_id).append("/");
    path.append(file_id.substr(file_id.size() - 2, 2)).append("/").append(file_id);
    return path;
}

std::string LocalStore::PathOf(const storage::TenantScope& tenant,
                               const std::string& file_id) const {
    return LocalContentPath(root_text_, tenant.id(), file_id);
}

Task<Result<std::unique_ptr<ContentWriter>>> LocalStore::Create(const storage::TenantScope& tenant,
                                                                const std::string& file_id) {
    if (!IsUuid(file_id) || !IsUuid(tenant.id())) co_return Error::Internal("bad file id");
    fs::path temp = root_ / "tmp" / (file_id + "." + RandomToken(8) + ".part");
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) co_return IoError("create", temp, errno);
    co_return std::unique_ptr<ContentWriter>(
        new LocalWriter(fd, std::move(temp), fs::path(PathOf(tenant, file_id)), workers_));
}

Task<Result<std::unique_ptr<ByteSource>>> LocalStore::Open(const storage::TenantScope& tenant,
                                                           const std::string& file_id,
                                                           uint64_t offset, uint64_t length) {
    if (!IsUuid(file_id)) co_return Error::NotFound("File not found");
    std::string path = PathOf(tenant, file_id);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) co_return IoError("open", path, errno);
    co_return std::unique_ptr<ByteSource>(new LocalReader(fd, offset, length));
}

Task<Status> LocalStore::Remove(const storage::TenantScope& tenant, const std::string& file_id) {
    if (!IsUuid(file_id)) co_return Status{};
    std::string path = PathOf(tenant, file_id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) co_return IoError("unlink", path, errno);
    co_return Status{};
}

namespace {

struct Found {
    std::string tenant;
    std::vector<std::pair<std::string, fs::path>> contents;  // file id, path (old enough)
};

// Whether a content or .part file may go: at start-up all may; later, only what no upload in
// flight can still be writing (a .part file untouched for a day; a content whose row is
// written right after its rename, unless an hour has passed).
bool OldEnough(const fs::path& p, bool startup, std::chrono::hours age) {
    if (startup) return true;
    std::error_code ec;
    auto t = fs::last_write_time(p, ec);
    return !ec && fs::file_time_type::clock::now() - t > age;
}

}  // namespace

Task<Result<int64_t>> LocalStore::Sweep(storage::Database& db) {
    bool startup = std::exchange(startup_, false);
    // 1. Walk the tree on a worker: .part files to drop, and the contents of each tenant.
    using Walk = std::pair<int64_t, std::vector<Found>>;
    // The walk runs on a worker, which has no exception guard: every throwing call is inside.
    std::function<Result<Walk>()> walk = [root = root_, startup]() -> Result<Walk> {
        try {
            std::error_code ec;
            int64_t removed = 0;
            for (const auto& e : fs::directory_iterator(root / "tmp", ec)) {
                if (OldEnough(e.path(), startup, std::chrono::hours(24)))
                    removed += fs::remove(e.path(), ec) ? 1 : 0;
            }
            std::vector<Found> found;
            for (const auto& t : fs::directory_iterator(root, ec)) {
                std::string tenant = t.path().filename().string();
                if (!t.is_directory() || !IsUuid(tenant)) continue;
                Found f{tenant, {}};
                for (const auto& shard : fs::directory_iterator(t.path(), ec)) {
                    for (const auto& c : fs::directory_iterator(shard.path(), ec)) {
                        std::string id = c.path().filename().string();
                        if (IsUuid(id) && OldEnough(c.path(), startup, std::chrono::hours(1)))
                            f.contents.emplace_back(id, c.path());
                    }
                }
                found.push_back(std::move(f));
            }
            return std::make_pair(removed, std::move(found));
        } catch (const std::exception& e) {
            return Error::Internal(std::string("file store walk: ") + e.what());
        }
    };
    auto walked = co_await workers_.Run<Walk>(std::move(walk));
    if (!walked.ok()) co_return std::move(walked).error();
    auto [removed, found] = std::move(*walked);
    // 2. Which of them still have a row (scoped by tenant, like every query).
    std::vector<fs::path> orphans;
    for (Found& f : found) {
        auto ids =
            co_await db.Query("SELECT id FROM files WHERE tenant_id = ?", storage::Bind(f.tenant));
        if (!ids.ok()) co_return std::move(ids).error();
        std::set<std::string> live;
        for (const auto& r : ids->rows) live.insert(storage::AsText(r[0]));
        for (auto& [id, path] : f.contents) {
            if (!live.contains(id)) orphans.push_back(std::move(path));
        }
    }
    if (orphans.empty()) co_return removed;
    // 3. Remove them on a worker.
    std::function<Result<int64_t>()> unlink_all = [orphans =
                                                       std::move(orphans)]() -> Result<int64_t> {
        int64_t n = 0;
        std::error_code ec;
        for (const auto& p : orphans) n += fs::remove(p, ec) ? 1 : 0;
        return n;
    };
    auto gone = co_await workers_.Run<int64_t>(std::move(unlink_all));
    if (!gone.ok()) co_return std::move(gone).error();
    if (*gone > 0) log::Info("removed file contents without a row", {{"count", *gone}});
    co_return removed + *gone;
}

}  // namespace tb::files
