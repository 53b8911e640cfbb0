#include "storage/postgres/pg_connection.h"

#include <fcntl.h>
#include <unistd.h>
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
    if (sqlstate == "53100") return Error::StorageFull("postgres " + sqlstate + ": " + message);
    if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "40001" ||
        sqlstate == "40P01" || sqlstate == "53300") {
        return Error::Unavailable("Database unavailable", "postgres " + sqlstate + ": " + message);
    }
    return Error::Internal("postgres " + sqlstate + ": " + message);
}

// Ok when every result of a statement that returns no rows (BEGIN, PREPARE) succeeded.
Status CommandsOk(const std::vector<PGresult*>& results) {
    for (PGresult* r : results) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) return ResultError(r);
    }
    return {};
}

// The rows of a statement's results (its error if it failed).
Result<Rows> ToRows(const std::vector<PGresult*>& results) {
    Rows out;
    for (PGresult* r : results) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ResultError(r);
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
    return out;
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
    // Our duplicate first (ResetDescriptor), then libpq's own.
    boost::system::error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    PQfinish(conn_);
}

bool PgConnection::broken() const { return failed_ || PQstatus(conn_) != CONNECTION_OK; }

Error PgConnection::ConnectionError(std::string_view what) {
    failed_ = true;
    return Error::Unavailable("Database unavailable", std::string("postgres ") + std::string(what) +
                                                          ": " + PQerrorMessage(conn_));
}

// Asio watches a duplicate of libpq's socket, never libpq's descriptor itself: libpq closes
// its descriptor when the server drops the connection, and the number may then be given to a
// new socket (a client's connection accepted by this process). Deregistering or closing by that
// number would then silence the new socket: a keep-alive request on it went unanswered. The
// duplicate keeps the dropped connection's socket until this object closes it.
Status PgConnection::ResetDescriptor() {
    int fd = PQsocket(conn_);
    if (fd < 0) return ConnectionError("socket");
    boost::system::error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return ConnectionError("dup socket");
    socket_.assign(own, ec);
    if (ec) {
        ::close(own);
        return ConnectionError("assign socket");
    }
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

Task<Result<std::vector<std::vector<PGresult*>>>> PgConnection::ReadPipeline(size_t queries) {
    std::vector<std::vector<PGresult*>> groups(queries);
    auto clear = [&groups] {
        for (auto& g : groups)
            for (PGresult* r : g) PQclear(r);
    };
    size_t ended = 0;  // statements whose results are all read (PQgetResult gave null after)
    bool synced = false;
    while (!synced) {
        if (!PQconsumeInput(conn_)) {
            clear();
            co_return ConnectionError("read");
        }
        while (!synced && !PQisBusy(conn_)) {
            PGresult* r = PQgetResult(conn_);
            if (!r) {
                ++ended;
            } else if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                synced = true;
            } else if (ended < queries) {
                groups[ended].push_back(r);
            } else {
                PQclear(r);
            }
        }
        if (synced) break;
        boost::system::error_code ec;
        co_await socket_.async_wait(stream_descriptor::wait_read,
                                    asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            clear();
            co_return ConnectionError("wait read");
        }
    }
    if (!PQexitPipelineMode(conn_)) {
        clear();
        co_return ConnectionError("pipeline");
    }
    co_return groups;
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

PgConnection::Encoded PgConnection::Encode(std::string_view sql, const Params& params) {
    Encoded e;
    e.sql = sql;
    e.storage.resize(params.size());
    e.values.assign(params.size(), nullptr);
    e.types.assign(params.size(), 0);  // 0: let the server infer from context
    for (size_t i = 0; i < params.size(); ++i) {
        const Value& v = params[i];
        if (auto* n = std::get_if<int64_t>(&v)) {
            e.storage[i] = std::to_string(*n);
            e.types[i] = kInt8;
        } else if (auto* d = std::get_if<double>(&v)) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", *d);
            e.storage[i] = buf;
            e.types[i] = kFloat8;
        } else if (auto* str = std::get_if<std::string>(&v)) {
            // The parameter's own text: a 1,000-document batch binds 10,000 of them.
            e.values[i] = str->c_str();
            continue;
        } else if (auto* b = std::get_if<Blob>(&v)) {
            // Sent as is, in binary: no copy, no escaping.
            if (e.lengths.empty()) {
                e.lengths.assign(params.size(), 0);
                e.formats.assign(params.size(), 0);
            }
            e.values[i] = b->bytes.data();
            e.lengths[i] = static_cast<int>(b->bytes.size());
            e.formats[i] = 1;
            e.types[i] = kBytea;
            continue;
        } else {
            continue;  // NULL
        }
        // Into the string's own buffer: it stays put when `e` (and its vectors) move.
        e.values[i] = e.storage[i].c_str();
    }
    return e;
}

bool PgConnection::SendEncoded(const Encoded& e) {
    int n = static_cast<int>(e.values.size());
    const int* lens = e.lengths.empty() ? nullptr : e.lengths.data();
    const int* fmts = e.formats.empty() ? nullptr : e.formats.data();
    return e.name.empty()
               ? PQsendQueryParams(conn_, e.text.c_str(), n, e.types.data(), e.values.data(), lens,
                                   fmts, 0) != 0
               : PQsendQueryPrepared(conn_, e.name.c_str(), n, e.values.data(), lens, fmts, 0) != 0;
}

bool PgConnection::StartPipeline(bool begin) {
    if (!PQenterPipelineMode(conn_)) return false;
    return !begin || PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0);
}

Task<Result<std::vector<PGresult*>>> PgConnection::Send(std::string_view sql,
                                                        const Params& params) {
    Encoded e = Encode(sql, params);
    TB_CO_ASSIGN_OR_RETURN(e.name, co_await Prepared(e.sql, e.types));
    Unprepared(e);
    const bool begin = std::exchange(begin_pending_, false);
    if (begin && !StartPipeline(true)) co_return ConnectionError("send");
    if (!SendEncoded(e) || (begin && !PQpipelineSync(conn_))) co_return ConnectionError("send");
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    if (!begin) co_return co_await ReadResults();
    TB_CO_ASSIGN_OR_RETURN(auto groups, co_await ReadPipeline(2));
    ResultsGuard begun{groups[0]};
    if (Status st = CommandsOk(groups[0]); !st.ok()) {
        ResultsGuard rest{groups[1]};
        co_return st.error();
    }
    co_return std::move(groups[1]);
}

Task<Result<std::vector<Rows>>> PgConnection::QueryAll(const std::vector<Statement>& statements) {
    std::vector<Encoded> encoded;
    encoded.reserve(statements.size());
    for (const Statement& st : statements) {
        encoded.push_back(Encode(st.sql, st.params));
        Encoded& e = encoded.back();
        TB_CO_ASSIGN_OR_RETURN(e.name, co_await Prepared(e.sql, e.types));
        Unprepared(e);
    }
    const bool begin = std::exchange(begin_pending_, false);
    if (!StartPipeline(begin)) co_return ConnectionError("send");
    for (const Encoded& e : encoded) {
        if (!SendEncoded(e)) co_return ConnectionError("send");
    }
    if (!PQpipelineSync(conn_)) co_return ConnectionError("send");
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    const size_t first = begin ? 1 : 0;
    TB_CO_ASSIGN_OR_RETURN(auto groups, co_await ReadPipeline(statements.size() + first));
    struct GroupsGuard {
        std::vector<std::vector<PGresult*>>& groups;
        ~GroupsGuard() {
            for (auto& g : groups)
                for (PGresult* r : g) PQclear(r);
        }
    } guard{groups};
    if (begin) TB_CO_RETURN_IF_ERROR(CommandsOk(groups[0]));
    std::vector<Rows> out;
    out.reserve(statements.size());
    for (size_t i = first; i < groups.size(); ++i) {
        TB_CO_ASSIGN_OR_RETURN(Rows rows, ToRows(groups[i]));
        out.push_back(std::move(rows));
    }
    co_return out;
}

void PgConnection::Unprepared(Encoded& e) {
    if (e.name.empty()) e.text = NumberPlaceholders(e.sql);
}

Task<Result<std::string>> PgConnection::Prepared(std::string_view sql,
                                                 const std::vector<Oid>& types) {
    // The types are part of the key: a statement prepared for an integer parameter cannot
    // take a real one.
    std::string key;
    key.reserve(sql.size() + 1 + types.size() * sizeof(Oid));
    key += sql;
    key += '\x1f';
    key.append(reinterpret_cast<const char*>(types.data()), types.size() * sizeof(Oid));
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
    // Numbered once, here: a 500-row INSERT's text is 60 KB.
    const std::string text = NumberPlaceholders(sql);
    if (!PQsendPrepare(conn_, name.c_str(), text.c_str(), static_cast<int>(types.size()),
                       types.data())) {
        co_return ConnectionError("send");
    }
    TB_CO_RETURN_IF_ERROR(co_await Flush());
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await ReadResults());
    ResultsGuard guard{results};
    TB_CO_RETURN_IF_ERROR(CommandsOk(results));
    prepared_.emplace(std::move(key), PreparedStatement{name, now});
    co_return name;
}

Task<Result<Rows>> PgConnection::Query(std::string_view sql, const Params& params) {
    TB_CO_ASSIGN_OR_RETURN(std::vector<PGresult*> results, co_await Send(sql, params));
    ResultsGuard guard{results};
    co_return ToRows(results);
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
