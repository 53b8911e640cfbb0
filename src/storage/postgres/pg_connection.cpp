#include "storage/postgres/pg_connection.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstdio>
#include <utility>

namespace tb::storage {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr size_t kMaxPrepared = 512;  // statements per connection

// bytea in the text format: "\\x" and two hex digits per byte (bytea_output = hex, the
// default since PostgreSQL 9.0).
std::string DecodeByteaHex(const char* text, int len) {
    auto hex = [](char c) -> int {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
    };
    std::string out;
    if (len < 2 || text[0] != '\\' || text[1] != 'x') return out;
    out.resize(static_cast<size_t>(len - 2) / 2);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(hex(text[2 + 2 * i]) * 16 + hex(text[3 + 2 * i]));
    return out;
}

// OIDs of the types we convert from text (pg_type.h).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701;

struct ResultsGuard {
    std::vector<PGresult*>& results;
    ~ResultsGuard() {
        for (PGresult* r : results) PQclear(r);
    }
};

Error ResultError(const PGresult* r) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    std::string message = PQresultErrorMessage(r);
    if (sqlstate == "23505") {
        Error e = Error::Conflict("Already exists");
        e.internal = message;
        return e;
    }
    if (sqlstate == "57014") {  // query_canceled: statement_timeout (query.timeout_ms)
        return Error::QueryTimeout("postgres 57014: " + message);
    }
    if (sqlstate == "2201B") {  // a $regex the ARE engine finds too complex
        Error e = Error::BadRequest("The regular expression is too complex", "q");
        e.internal = message;
        return e;
    }
    if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "40001" ||
        sqlstate == "40P01" || sqlstate == "53300") {
        return Error::Unavailable("Database unavailable", "postgres " + sqlstate + ": " + message);
    }
    return Error::Internal("postgres " + sqlstate + ": " + message);
}
}  // namespace

std::string NumberPlaceholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int n = 0;
    char quote = 0;
    for (char c : sql) {
        if (quote) {
            if (c == quote) quote = 0;
            out += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out += c;
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++n);
        } else {
            out += c;
        }
    }
    return out;
}

PgConnection::PgConnection(asio::any_io_executor ex, PGconn* conn)
    : ex_(std::move(ex)), conn_(conn), socket_(ex_) {}

PgConnection::~PgConnection() {
    // libpq owns the socket: let go of it before PQfinish closes it.
    if (socket_.is_open()) socket_.release();
    PQfinish(conn_);
}

bool PgConnection::broken() const { return failed_ || PQstatus(conn_) != CONNECTION_OK; }

Error PgConnection::ConnectionError(std::string_view what) {
    failed_ = true;
    return Error::Unavailable("Database unavailable", std::string("postgres ") + std::string(what) +
                                                          ": " + PQerrorMessage(conn_));
}

Status PgConnection::ResetDescriptor() {
    int fd = PQsocket(conn_);
    if (fd < 0) return ConnectionError("socket");
    if (socket_.is_open() && socket_.native_handle() == fd) return {};
    if (socket_.is_open()) socket_.release();
    boost::system::error_code ec;
    socket_.assign(fd, ec);
    if (ec) return ConnectionError("assign socket");
    return {};
}

Task<Result<std::unique_ptr<PgConnection>>> PgConnection::Connect(asio::any_io_executor ex,
                                                                  std::string conninfo) {
    PGconn* raw = PQconnectStart(conninfo.c_str());
    if (!raw) co_return Error::Unavailable("Database unavailable", "postgres: out of memory");
    std::unique_ptr<PgConnection> conn(new PgConnection(ex, raw));
    if (PQstatus(raw) == CONNECTION_BAD) co_return conn->ConnectionError("connect");
    // Server notices ("relation already exists, skipping") are not errors; libpq would print
    // them to stderr, outside our structured log.
    PQsetNoticeProcessor(
        raw, [](void*, const char*) {}, nullptr);

    // Give up after kConnectTimeout: the timer cancels the pending wait.
    asio::steady_timer timer(ex, kConnectTimeout);
    bool timed_out = false;
    timer.async_wait([&, c = conn.get()](boost::system::error_code ec) {
        if (!ec) {
            timed_out = true;
            if (c->socket_.is_open()) c->socket_.cancel();
        }
    });
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
        if (poll == PGRES_POLLING_FAILED) {
            timer.cancel();
            co_return conn->ConnectionError("connect");
        }
        if (auto s = conn->ResetDescriptor(); !s.ok()) {
            timer.cancel();
            co_return std::move(s).error();
        }
        boost::system::error_code ec;
        co_await conn->socket_.async_wait(poll == PGRES_POLLING_READING
                                              ? stream_descriptor::wait_read
                                              : stream_descriptor::wait_write,
                                          asio::redirect_error(asio::use_awaitable, ec));
        if (ec || timed_out) {
            timer.cancel();
            co_return Error::Unavailable("Database unavailable", "postgres connect: timed out");
        }
        poll = PQconnectPoll(raw);
    }
    timer.cancel();
    if (PQsetnonblocking(raw, 1) != 0) co_return conn->ConnectionError("nonblocking");
    if (auto s = conn->ResetDescriptor(); !s.ok()) co_return std::move(s).error();
    co_return conn;
}

Task<Result<std::vector<PgConnection::Notification>>> PgConnection::WaitNotifications() {
    std::vector<Notification> out;
    while (true) {
        if (!PQconsumeInput(conn_)) co_return ConnectionError("read");
        while (PGnotify* n = PQnotifies(conn_)) {
            out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
            PQfreemem(n);
        }
        if (!out.empty()) co_return out;
        boost::system::error_code ec;
        co_await socket_.async_wait(stream_descriptor::wait_read,
                                    asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ConnectionError("wait read");
    }
}

void PgConnection::Cancel() {
    if (socket_.is_open()) socket_.cancel();
}

Task<Status> PgConnection::Flush() {
    while (true) {
        int rc = PQflush(conn_);
        if (rc == 0) co_return Status{};
        if (rc < 0) co_return ConnectionError("flush");
        boost::system::error_code ec;
        co_await socket_.async_wait(stream_descriptor::wait_write,
                                    asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ConnectionError("wait write");
    }
}

Task<Result<std::vector<PGresult*>>> PgConnection::ReadPipeline() {
    std::vector<PGresult*> begin, results;
    ResultsGuard begin_guard{begin};
    int ended = 0;  // queries whose results are all read (PQgetResult gave null after them)
    bool synced = false;
    while (!synced) {
        if (!PQconsumeInput(conn_)) {
            for (PGresult* r : results) PQclear(r);
            co_return ConnectionError("read");
        }
        while (!synced && !PQisBusy(conn_)) {
            PGresult* r = PQgetResult(conn_);
            if (!r) {
                ++ended;
            } else if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                synced = true;
            } else {
                (ended == 0 ? begin : results).push_back(r);
            }
        }
        if (synced) break;
        boost::system::error_code ec;
        co_await socket_.async_wait(stream_descriptor::wait_read,
                                    asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            for (PGresult* r : results) PQclear(r);
            co_return ConnectionError("wait read");
        }
    }
    if (!PQexitPipelineMode(conn_)) {
        for (PGresult* r : results) PQclear(r);
        co_return ConnectionError("pipeline");
    }
    for (PGresult* r : begin) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            for (PGresult* x : results) PQclear(x);
            co_return ResultError(r);
        }
    }
    co_return results;
}

Task<Result<std::vector<PGresult*>>> PgConnection::ReadResults() {
    std::vector<PGresult*> results;
    while (true) {
        if (!PQconsumeInput(conn_)) {
            for (PGresult* r : results) PQclear(r);
            co_return ConnectionError("read");
        }
        while (!PQisBusy(conn_)) {
            PGresult* r = PQgetResult(conn_);
            if (!r) co_return results;
            results.push_back(r);
        }
        boost::system::error_code ec;
        co_await socket_.async_wait(stream_descriptor::wait_read,
                                    asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            for (PGresult* r : results) PQclear(r);
            co_return ConnectionError("wait read");
        }
    }
}

Task<Result<std::vector<PGresult*>>> PgConnection::Send(std::string_view sql,
                                                        const Params& params) {
    std::string text = NumberPlaceholders(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);  // 0: let the server infer from context
    // Lengths and formats only matter for binary parameters (blobs); null otherwise.
    std::vector<int> lengths, formats;
    for (size_t i = 0; i < params.size(); ++i) {
        const Value& v = params[i];
        if (auto* n = std::get_if<int64_t>(&v)) {
            storage[i] = std::to_string(*n);
            types[i] = kInt8;
        } else if (auto* d = std::get_if<double>(&v)) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", *d);
            storage[i] = buf;
            types[i] = kFloat8;
        } else if (auto* s = std::get_if<std::string>(&v)) {
            storage[i] = *s;
        } else if (auto* b = std::get_if<Blob>(&v)) {
            // Sent as is, in binary: no copy, no escaping.
            if (lengths.empty()) {
                lengths.assign(params.size(), 0);
                formats.assign(params.size(), 0);
            }
            values[i] = b->bytes.data();
            lengths[i] = static_cast<int>(b->bytes.size());
            formats[i] = 1;
            types[i] = kBytea;
            continue;
        } else {
            continue;  // NULL
        }
        values[i] = storage[i].c_str();
    }
    const int* lens = lengths.empty() ? nullptr : lengths.data();
    const int* fmts = formats.empty() ? nullptr : formats.data();
    TB_CO_ASSIGN_OR_RETURN(std::string name, co_await Prepared(text, types));
    int n = static_cast<int>(params.size());
    const bool begin = std::exchange(begin_pending_, false);
    if (begin && (!PQenterPipelineMode(conn_) ||
                  !PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0))) {
        co_return ConnectionError("send");
    }
    int sent =
        name.empty()
            ? PQsendQueryParams(conn_, text.c_str(), n, types.data(), values.data(), lens, fmts, 0)
            : PQsendQueryPrepared(conn_, name.c_str(), n, values.data(), lens, fmts, 0);
    if (!sent || (begin && !PQpipelineSync(conn_))) co_return ConnectionError("send");
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    if (begin) co_return co_await ReadPipeline();
    co_return co_await ReadResults();
}

Task<Result<std::string>> PgConnection::Prepared(const std::string& text,
                                                 const std::vector<Oid>& types) {
    // The types are part of the key: a statement prepared for an integer parameter cannot
    // take a real one.
    std::string key = text;
    key += '\x1f';
    for (Oid t : types) key += std::to_string(t) + ",";
    const auto now = std::chrono::steady_clock::now();
    if (auto it = prepared_.find(key); it != prepared_.end()) {
        if (now - it->second.at < kReplanAfter) co_return it->second.name;
        // Planned long enough ago that the table may have grown past what its plan assumed
        // (a generic plan made while a table had no statistics can pick an index that scans a
        // whole collection for one id): prepared again, and planned with today's statistics.
        std::string stale = std::move(it->second.name);
        prepared_.erase(it);
        TB_CO_RETURN_IF_ERROR(co_await Script("DEALLOCATE " + stale));
    }
    if (prepared_.size() >= kMaxPrepared) co_return std::string();
    std::string name = "tb_" + std::to_string(++prepared_count_);
    if (!PQsendPrepare(conn_, name.c_str(), text.c_str(), static_cast<int>(types.size()),
                       types.data())) {
        co_return ConnectionError("send");
    }
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await ReadResults());
    ResultsGuard guard{results};
    for (PGresult* r : results) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) co_return ResultError(r);
    }
    prepared_.emplace(std::move(key), PreparedStatement{name, now});
    co_return name;
}

Task<Result<Rows>> PgConnection::Query(std::string_view sql, const Params& params) {
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await Send(sql, params));
    ResultsGuard guard{results};
    Rows out;
    for (PGresult* r : results) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) co_return ResultError(r);
        if (st != PGRES_TUPLES_OK) continue;
        int ncol = PQnfields(r), nrow = PQntuples(r);
        out.rows.reserve(nrow);
        for (int i = 0; i < nrow; ++i) {
            std::vector<Value>& row = out.rows.emplace_back();
            row.reserve(ncol);
            for (int c = 0; c < ncol; ++c) {
                if (PQgetisnull(r, i, c)) {
                    row.emplace_back(kNull);
                    continue;
                }
                const char* text = PQgetvalue(r, i, c);
                int len = PQgetlength(r, i, c);
                switch (PQftype(r, c)) {
                    case kInt8:
                    case kInt2:
                    case kInt4:
                    case kOid: {
                        int64_t n = 0;
                        std::from_chars(text, text + len, n);
                        row.emplace_back(n);
                        break;
                    }
                    case kFloat4:
                    case kFloat8:
                        row.emplace_back(std::strtod(text, nullptr));
                        break;
                    case kBool:
                        row.emplace_back(int64_t{text[0] == 't' ? 1 : 0});
                        break;
                    case kBytea:
                        row.emplace_back(DecodeByteaHex(text, len));
                        break;
                    default:
                        row.emplace_back(std::string(text, len));
                }
            }
        }
    }
    co_return out;
}

Task<Result<int64_t>> PgConnection::Execute(std::string_view sql, const Params& params) {
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await Send(sql, params));
    ResultsGuard guard{results};
    int64_t changed = 0;
    for (PGresult* r : results) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) co_return ResultError(r);
        const char* n = PQcmdTuples(r);
        if (n && *n) changed = std::strtoll(n, nullptr, 10);
    }
    co_return changed;
}

Task<Status> PgConnection::Script(std::string_view sql) {
    std::string text;
    if (std::exchange(begin_pending_, false)) {
        if (sql == "COMMIT" || sql == "ROLLBACK") co_return Status{};  // nothing ran
        text = "BEGIN; ";
    }
    text += sql;
    if (!PQsendQuery(conn_, text.c_str())) co_return ConnectionError("send");
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await ReadResults());
    ResultsGuard guard{results};
    for (PGresult* r : results) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) co_return ResultError(r);
    }
    co_return Status{};
}

}  // namespace tb::storage
