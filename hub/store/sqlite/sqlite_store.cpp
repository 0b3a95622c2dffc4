#include "hub/store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "hub/store/record_codec.hpp"
#include "routing/base/file_io.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kFileMode = 0600;  // the database holds PSKs: owner only

// Schema migrations, in order. Step N takes a database from user_version N-1 to N, in one
// transaction. Steps are never edited once released; a change is a new step. A step's SQL may
// use the parameter :hub, bound to the name of the hub that opens the database.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta(key, value) VALUES('revision', 0);
CREATE TABLE spokes(name TEXT PRIMARY KEY, generation INTEGER NOT NULL,
                    mod_revision INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE tunnel_inside(cidr TEXT PRIMARY KEY,
                           spoke TEXT NOT NULL REFERENCES spokes(name) ON DELETE CASCADE);
CREATE TABLE tunnel_outside(address TEXT PRIMARY KEY,
                            spoke TEXT NOT NULL REFERENCES spokes(name) ON DELETE CASCADE);
CREATE INDEX tunnel_inside_by_spoke ON tunnel_inside(spoke);
CREATE INDEX tunnel_outside_by_spoke ON tunnel_outside(spoke);
)sql"},
    // Record version 2: each spoke's route tag, unique among the spokes. Records written before
    // it have none (0, not allocated) and get a row when the registry allocates their tag.
    {2, R"sql(
CREATE TABLE route_tags(tag INTEGER PRIMARY KEY CHECK (tag > 0),
                        spoke TEXT NOT NULL UNIQUE
                              REFERENCES spokes(name) ON DELETE CASCADE);
)sql"},
    // Record version 3: tunnels name their hub, and a spoke holds tunnels on both hubs of the
    // pair; an outside address is claimed per hub (a site with one public address connects to
    // both hubs from it). Every existing claim is the opening hub's: a single hub wrote it.
    {3, R"sql(
CREATE TABLE tunnel_outside_v3(hub TEXT NOT NULL CHECK (hub <> ''), address TEXT NOT NULL,
                               spoke TEXT NOT NULL REFERENCES spokes(name) ON DELETE CASCADE,
                               PRIMARY KEY(hub, address));
INSERT INTO tunnel_outside_v3(hub, address, spoke) SELECT :hub, address, spoke FROM tunnel_outside;
DROP INDEX tunnel_outside_by_spoke;
DROP TABLE tunnel_outside;
ALTER TABLE tunnel_outside_v3 RENAME TO tunnel_outside;
CREATE INDEX tunnel_outside_by_spoke ON tunnel_outside(spoke);
)sql"},
    // The audit trail: one row per change, written in the change's transaction. seq orders the
    // trail (AUTOINCREMENT: never reused, so a cursor keeps its place while old rows are
    // trimmed); at_ms is the change's wall time, for trimming by age.
    {4, R"sql(
CREATE TABLE audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,
                   revision INTEGER NOT NULL, spoke TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX audit_by_time ON audit(at_ms);
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;

constexpr bool migrationsAreNumberedInOrder() {
  for (std::size_t i = 0; i < std::size(kMigrations); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) {
      return false;
    }
  }
  return true;
}
static_assert(migrationsAreNumberedInOrder(), "migration N must be at index N-1");

StoreError error(StoreErrorCode code, std::string message) {
  return StoreError{code, std::move(message)};
}

std::string errnoText(int err) { return std::generic_category().message(err); }

// Classifies a SQLite result code; `what` says what the store was doing. SQLite's messages name
// tables and columns, never bound values, so no record (and no PSK) can leak into the text.
StoreError sqliteError(sqlite3* db, int rc, std::string_view what) {
  StoreErrorCode code = StoreErrorCode::kUnavailable;
  std::string_view kind;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = StoreErrorCode::kConflict;
      kind = "constraint violated";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = StoreErrorCode::kCorrupt;
      kind = "the database file is damaged or is not a database";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      kind = "the database is busy or locked by another connection";
      break;
    case SQLITE_FULL:
      kind = "the disk or the database is full";
      break;
    case SQLITE_IOERR:
      kind = "I/O error";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      kind = "the database cannot be opened for writing";
      break;
    default:
      kind = "database error";
      break;
  }
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return error(code,
               fmt::format("sqlite store: {} failed: {} ({}, code {})", what, kind, detail, rc));
}

StoreError fileError(std::string_view what, const fs::path& path, int err) {
  return error(StoreErrorCode::kUnavailable,
               fmt::format("sqlite store: {} {}: {}", what, path.string(), errnoText(err)));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// The file I/O floor's error (it names the path) as this store's.
StoreError fileIoError(std::string message) {
  return error(StoreErrorCode::kUnavailable, fmt::format("sqlite store: {}", message));
}

// Makes `path` a regular file of mode 0600: creates it when `create` is set and it is missing,
// and sets the mode of an existing file that has any other (a 0644 file is tightened). A missing
// file is fine when `create` is not set.
std::expected<void, StoreError> secureFile(const fs::path& path, bool create) {
  constexpr int kFlags = O_RDWR | O_CLOEXEC | O_NOCTTY;
  bool created = false;
  int raw = -1;
  if (create) {
    raw = ::open(path.c_str(), kFlags | O_CREAT | O_EXCL, kFileMode);
    if (raw >= 0) {
      created = true;
    } else if (errno != EEXIST) {
      return std::unexpected(fileError("cannot create", path, errno));
    }
  }
  if (raw < 0) {
    raw = ::open(path.c_str(), kFlags);
    if (raw < 0) {
      if (!create && errno == ENOENT) {
        return {};
      }
      return std::unexpected(fileError("cannot open", path, errno));
    }
  }
  FileDescriptor fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::unexpected(fileError("cannot inspect", path, errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(fileError("not a regular file:", path, EINVAL));
  }
  if ((st.st_mode & 07777) != kFileMode && ::fchmod(fd.get(), kFileMode) != 0) {
    return std::unexpected(fileError("cannot set mode 0600 on", path, errno));
  }
  if (created) {
    if (auto synced = syncDirectory(path.parent_path()); !synced) {
      return std::unexpected(fileIoError(std::move(synced.error())));
    }
  }
  return {};
}

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// One use of a cached statement: bind, step, read columns. On scope exit the statement is reset
// and its bindings cleared, so it holds no lock and no stale value between calls. A failed bind
// is reported by step() without running the statement.
class StatementUse {
 public:
  explicit StatementUse(const Statement& statement) : statement_(statement.get()) {}
  ~StatementUse() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

  StatementUse& bind(int index, std::string_view text) {
    if (rc_ == SQLITE_OK) {
      rc_ = text.size() > static_cast<std::size_t>(INT_MAX)
                ? SQLITE_TOOBIG
                : sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                                    SQLITE_TRANSIENT);
    }
    return *this;
  }
  StatementUse& bind(int index, std::uint64_t value) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_int64(statement_, index, static_cast<sqlite3_int64>(value));
    }
    return *this;
  }

  int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(statement_); }

  std::uint64_t columnUint(int column) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(statement_, column));
  }
  std::string_view columnText(int column) const {
    const auto* text = sqlite3_column_text(statement_, column);
    if (text == nullptr) {
      return {};
    }
    return {reinterpret_cast<const char*>(text),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
  }

 private:
  sqlite3_stmt* statement_;
  int rc_ = SQLITE_OK;
};

// Runs a cached statement that returns no rows; false (and `failure` set) if it fails.
bool stepStatement(sqlite3* db, const Statement& statement, std::string_view what,
                   StoreError& failure) {
  StatementUse use(statement);
  if (const int rc = use.step(); rc != SQLITE_DONE) {
    failure = sqliteError(db, rc, what);
    return false;
  }
  return true;
}

// Runs a statement that yields one row with one column (a PRAGMA); nullopt if it yields none.
std::expected<std::optional<std::string>, StoreError> queryText(sqlite3* db, const char* sql,
                                                                std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  const int prepared = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  Statement statement(raw);
  if (prepared != SQLITE_OK) {
    return std::unexpected(sqliteError(db, prepared, what));
  }
  StatementUse use(statement);
  const int rc = use.step();
  if (rc == SQLITE_DONE) {
    return std::nullopt;
  }
  if (rc != SQLITE_ROW) {
    return std::unexpected(sqliteError(db, rc, what));
  }
  return std::string(use.columnText(0));
}

std::expected<std::int64_t, StoreError> queryInt(sqlite3* db, const char* sql,
                                                 std::string_view what) {
  auto text = queryText(db, sql, what);
  if (!text) {
    return std::unexpected(text.error());
  }
  if (!*text) {
    return std::unexpected(error(StoreErrorCode::kUnavailable,
                                 fmt::format("sqlite store: {} returned no value", what)));
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars((*text)->data(), (*text)->data() + (*text)->size(), value);
  if (ec != std::errc() || end != (*text)->data() + (*text)->size()) {
    return std::unexpected(error(StoreErrorCode::kUnavailable,
                                 fmt::format("sqlite store: {} returned '{}'", what, **text)));
  }
  return value;
}

std::expected<void, StoreError> exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return std::unexpected(sqliteError(db, rc, what));
  }
  return {};
}

StoreError newerSchema(std::int64_t version) {
  return error(StoreErrorCode::kCorrupt,
               fmt::format("database schema version {} is newer than this transit-hubd supports "
                           "({})",
                           version, kLatestVersion));
}

std::expected<std::int64_t, StoreError> schemaVersionOf(sqlite3* db) {
  auto version = queryInt(db, "PRAGMA user_version", "reading the schema version");
  if (version && *version > kLatestVersion) {
    return std::unexpected(newerSchema(*version));
  }
  return version;
}

// WAL with synchronous=FULL: a commit returns only after its WAL frames are on stable storage.
std::expected<void, StoreError> configure(sqlite3* db) {
  auto mode = queryText(db, "PRAGMA journal_mode=WAL", "setting journal_mode=WAL");
  if (!mode) {
    return std::unexpected(mode.error());
  }
  if (*mode != "wal") {
    return std::unexpected(
        error(StoreErrorCode::kUnavailable,
              fmt::format("sqlite store: the database refused WAL mode (journal_mode is '{}')",
                          mode->value_or(""))));
  }
  if (auto done = exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", "setting pragmas");
      !done) {
    return done;
  }
  auto synchronous = queryInt(db, "PRAGMA synchronous", "reading synchronous");
  auto foreign_keys = queryInt(db, "PRAGMA foreign_keys", "reading foreign_keys");
  if (!synchronous || !foreign_keys) {
    return std::unexpected(!synchronous ? synchronous.error() : foreign_keys.error());
  }
  if (*synchronous != 2 || *foreign_keys != 1) {
    return std::unexpected(
        error(StoreErrorCode::kUnavailable,
              "sqlite store: SQLite ignored synchronous=FULL or foreign_keys=ON"));
  }
  return {};
}

// Runs every statement of `sql` in order, binding :hub (where a statement has it) to `hub`.
std::expected<void, StoreError> execMigration(sqlite3* db, const char* sql, std::string_view hub,
                                              std::string_view what) {
  const char* next = sql;
  while (next != nullptr && *next != '\0') {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int prepared = sqlite3_prepare_v2(db, next, -1, &raw, &tail);
    Statement statement(raw);
    if (prepared != SQLITE_OK) {
      return std::unexpected(sqliteError(db, prepared, what));
    }
    next = tail;
    if (!statement) continue;  // only whitespace or a comment was left
    StatementUse use(statement);
    if (const int at = sqlite3_bind_parameter_index(statement.get(), ":hub"); at > 0) {
      use.bind(at, hub);
    }
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) rc = use.step();
    if (rc != SQLITE_DONE) {
      return std::unexpected(sqliteError(db, rc, what));
    }
  }
  return {};
}

// Version 3 gives existing outside-address claims to the opening hub: it must have a name.
std::expected<void, StoreError> checkHubForMigration(sqlite3* db, int version,
                                                     std::string_view hub) {
  if (version != 3 || !hub.empty()) return {};
  auto claims = queryInt(db, "SELECT count(*) FROM tunnel_outside", "counting outside claims");
  if (!claims) return std::unexpected(claims.error());
  if (*claims == 0) return {};
  return std::unexpected(
      error(StoreErrorCode::kCorrupt,
            "sqlite store: the database holds tunnels from before tunnels named their hub; it "
            "can be migrated only by the hub that owns it (no hub name was given)"));
}

// Applies the migration steps the database lacks, each in its own transaction. The version is
// read again inside each transaction, so two processes migrating at once do not both apply a step.
std::expected<void, StoreError> migrate(sqlite3* db, std::string_view hub) {
  for (const Migration& step : kMigrations) {
    const std::string what = fmt::format("schema migration to version {}", step.version);
    if (auto begun = exec(db, "BEGIN IMMEDIATE", what); !begun) {
      return begun;
    }
    auto applied = [&]() -> std::expected<void, StoreError> {
      auto version = schemaVersionOf(db);
      if (!version) {
        return std::unexpected(version.error());
      }
      if (*version < step.version) {
        if (auto named = checkHubForMigration(db, step.version, hub); !named) {
          return named;
        }
        if (auto done = execMigration(db, step.sql, hub, what); !done) {
          return done;
        }
        const std::string set_version = fmt::format("PRAGMA user_version = {}", step.version);
        if (auto done = exec(db, set_version.c_str(), what); !done) {
          return done;
        }
      }
      return exec(db, "COMMIT", what);
    }();
    if (!applied) {
      if (sqlite3_get_autocommit(db) == 0) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      return applied;
    }
  }
  return {};
}

std::string encodeRecord(const peers::Spoke& spoke) {
  return boost::json::serialize(encodeSpokeRecord(spoke));
}

std::expected<peers::Spoke, StoreError> decodeRecord(std::string_view name,
                                                     std::uint64_t generation,
                                                     std::string_view record,
                                                     std::string_view hub) {
  auto corrupt = [&](std::string_view problem) {
    return std::unexpected(
        error(StoreErrorCode::kCorrupt,
              fmt::format("sqlite store: the stored record of spoke '{}' {}", name, problem)));
  };
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(record, ec);
  if (ec) {
    return corrupt(fmt::format("is not valid JSON ({})", ec.message()));
  }
  auto spoke = decodeSpokeRecord(json, hub);
  if (!spoke) {
    return corrupt(fmt::format("cannot be decoded: {}", spoke.error()));
  }
  if (spoke->name != name) {
    return corrupt("carries another name");
  }
  if (spoke->generation != generation) {
    return corrupt(
        fmt::format("has generation {} but its row says {}", spoke->generation, generation));
  }
  return std::move(*spoke);
}

}  // namespace

struct SqliteStore::Statements {
  Statement begin_read;
  Statement begin_write;
  Statement commit;
  Statement rollback;
  Statement savepoint;
  Statement release_savepoint;
  Statement rollback_to_savepoint;
  Statement select_revision;
  Statement bump_revision;
  Statement select_generation;
  Statement select_all;
  Statement insert_spoke;
  Statement update_spoke;
  Statement delete_spoke;
  Statement insert_inside;
  Statement insert_outside;
  Statement delete_inside;
  Statement delete_outside;
  Statement inside_holder;
  Statement outside_holder;
  Statement insert_route_tag;
  Statement delete_route_tag;
  Statement route_tag_holder;
  Statement insert_audit;
  Statement trim_audit;
  Statement select_audit;

  static std::expected<std::unique_ptr<Statements>, StoreError> prepare(sqlite3* db) {
    auto out = std::make_unique<Statements>();
    const std::pair<Statement Statements::*, const char*> table[] = {
        {&Statements::begin_read, "BEGIN DEFERRED"},
        {&Statements::begin_write, "BEGIN IMMEDIATE"},
        {&Statements::commit, "COMMIT"},
        {&Statements::rollback, "ROLLBACK"},
        {&Statements::savepoint, "SAVEPOINT one_write"},
        {&Statements::release_savepoint, "RELEASE one_write"},
        {&Statements::rollback_to_savepoint, "ROLLBACK TO one_write"},
        {&Statements::select_revision, "SELECT value FROM meta WHERE key = 'revision'"},
        {&Statements::bump_revision,
         "UPDATE meta SET value = value + 1 WHERE key = 'revision' RETURNING value"},
        {&Statements::select_generation, "SELECT generation FROM spokes WHERE name = ?1"},
        {&Statements::select_all, "SELECT name, generation, record FROM spokes ORDER BY name"},
        {&Statements::insert_spoke,
         "INSERT INTO spokes(name, generation, mod_revision, record) VALUES(?1, ?2, ?3, ?4)"},
        {&Statements::update_spoke,
         "UPDATE spokes SET generation = ?2, mod_revision = ?3, record = ?4 WHERE name = ?1"},
        {&Statements::delete_spoke, "DELETE FROM spokes WHERE name = ?1"},
        {&Statements::insert_inside, "INSERT INTO tunnel_inside(cidr, spoke) VALUES(?1, ?2)"},
        {&Statements::insert_outside,
         "INSERT INTO tunnel_outside(hub, address, spoke) VALUES(?3, ?1, ?2)"},
        {&Statements::delete_inside, "DELETE FROM tunnel_inside WHERE spoke = ?1"},
        {&Statements::delete_outside, "DELETE FROM tunnel_outside WHERE spoke = ?1"},
        {&Statements::inside_holder, "SELECT spoke FROM tunnel_inside WHERE cidr = ?1"},
        {&Statements::outside_holder,
         "SELECT spoke FROM tunnel_outside WHERE address = ?1 AND hub = ?3"},
        {&Statements::insert_route_tag, "INSERT INTO route_tags(tag, spoke) VALUES(?1, ?2)"},
        {&Statements::delete_route_tag, "DELETE FROM route_tags WHERE spoke = ?1"},
        {&Statements::route_tag_holder, "SELECT spoke FROM route_tags WHERE tag = ?1"},
        {&Statements::insert_audit,
         "INSERT INTO audit(at_ms, revision, spoke, record) VALUES(?1, ?2, ?3, ?4)"},
        {&Statements::trim_audit,
         "DELETE FROM audit WHERE at_ms < ?1 OR seq <= (SELECT max(seq) FROM audit) - ?2"},
        {&Statements::select_audit,
         "SELECT seq, revision, record FROM audit WHERE seq < ?1 AND (?2 = '' OR spoke = ?2) "
         "ORDER BY seq DESC LIMIT ?3"},
    };
    for (const auto& [member, sql] : table) {
      sqlite3_stmt* raw = nullptr;
      const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      (*out).*member = Statement(raw);
      if (rc == SQLITE_ERROR) {
        // "no such table" and the like: the schema is not what its version promises.
        return std::unexpected(
            error(StoreErrorCode::kCorrupt,
                  fmt::format("sqlite store: the database schema does not match version {}: {}",
                              kLatestVersion, sqlite3_errmsg(db))));
      }
      if (rc != SQLITE_OK) {
        return std::unexpected(sqliteError(db, rc, "preparing statements"));
      }
    }
    return out;
  }
};

int SqliteStore::schemaVersion() { return kLatestVersion; }

std::expected<std::unique_ptr<SqliteStore>, StoreError> SqliteStore::open(
    const fs::path& file, const SqliteStoreOptions& options) {
  std::error_code ec;
  fs::path path = fs::absolute(file, ec);
  if (ec) {
    return std::unexpected(fileError("cannot resolve", file, ec.value()));
  }
  path = path.lexically_normal();
  if (!path.has_filename()) {
    return std::unexpected(fileError("not a file name:", path, EISDIR));
  }
  if (options.read_only) {
    if (!fs::is_regular_file(path, ec)) {
      return std::unexpected(
          error(StoreErrorCode::kNotFound,
                fmt::format("sqlite store {} does not exist (or is not a file)", path.string())));
    }
  } else {
    if (auto made = makePrivateDirs(path.parent_path()); !made) {
      return std::unexpected(fileIoError(std::move(made.error())));
    }
    if (auto secured = secureFile(path, true); !secured) {
      return std::unexpected(secured.error());
    }
    // Left over from an unclean stop, possibly by a version that did not set modes.
    for (const char* suffix : {"-wal", "-shm"}) {
      if (auto secured = secureFile(fs::path(path.string() + suffix), false); !secured) {
        return std::unexpected(secured.error());
      }
    }
  }

  // One process per store: a second transit-hubd on the same file would hand out /30s and
  // names that the first does not know about. flock() is separate from SQLite's own POSIX locks;
  // this descriptor stays open until after the connection is closed, so closing it can never
  // drop a lock SQLite holds.
  FileDescriptor lock(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (lock.get() < 0) {
    return std::unexpected(fileError("cannot open", path, errno));
  }
  // Read-only: a shared lock, which a running transit-hubd's exclusive one also refuses.
  if (::flock(lock.get(), (options.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return std::unexpected(
          error(StoreErrorCode::kUnavailable,
                fmt::format("sqlite store {} is in use by another process (another transit-hubd?)",
                            path.string())));
    }
    return std::unexpected(fileError("cannot lock", path, errno));
  }
  struct stat identity {};
  if (::fstat(lock.get(), &identity) != 0) {
    return std::unexpected(fileError("cannot inspect", path, errno));
  }

  sqlite3* raw = nullptr;
  // NOMUTEX: one thread at a time uses the connection (see the header). SQLite creates -wal and
  // -shm with the main file's mode, so they are 0600 too.
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX,
      nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) {
    return std::unexpected(sqliteError(raw, rc, fmt::format("opening {}", path.string())));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));

  // Refuse a newer database before anything (even the journal mode) is written to it.
  auto version = schemaVersionOf(db.get());
  if (!version) {
    return std::unexpected(version.error());
  }
  if (options.read_only) {
    if (*version != kLatestVersion) {  // reading it would need a migration, which writes
      return std::unexpected(error(
          StoreErrorCode::kCorrupt,
          fmt::format("sqlite store {} has schema version {}, not {}: run this transit-hubd on it "
                      "once to migrate it",
                      path.string(), *version, kLatestVersion)));
    }
  } else if (auto configured = configure(db.get()); !configured) {
    return std::unexpected(configured.error());
  }
  if (auto migrated = options.read_only ? std::expected<void, StoreError>{}
                                        : migrate(db.get(), options.hub_name);
      !migrated) {
    return std::unexpected(migrated.error());
  }
  auto statements = Statements::prepare(db.get());
  if (!statements) {
    return std::unexpected(statements.error());
  }
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(db.release(), std::move(*statements),
                                                            options.hub_name, path, identity.st_dev,
                                                            identity.st_ino, lock.release()));
  store->read_only_ = options.read_only;
  return store;
}

SqliteStore::SqliteStore(sqlite3* db, std::unique_ptr<Statements> statements, std::string hub_name,
                         fs::path path, dev_t device, ino_t inode, int lock_fd)
    : db_(db),
      statements_(std::move(statements)),
      hub_name_(std::move(hub_name)),
      description_("sqlite:" + path.string()),
      path_(std::move(path)),
      device_(device),
      inode_(inode),
      lock_fd_(lock_fd) {}

SqliteStore::~SqliteStore() {
  rollback();
  statements_.reset();
  sqlite3_close_v2(db_);
  ::close(lock_fd_);  // after the connection: releases the one-process lock
}

std::string SqliteStore::describe() const { return description_; }

std::expected<void, StoreError> SqliteStore::check() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return std::unexpected(error(
        StoreErrorCode::kUnavailable,
        fmt::format("the database file {} is gone ({}); restart transit-hubd after restoring it",
                    path_.string(), errnoText(errno))));
  }
  if (st.st_dev != device_ || st.st_ino != inode_) {
    return std::unexpected(error(
        StoreErrorCode::kUnavailable,
        fmt::format("the database file {} was replaced while transit-hubd ran; restart it to use "
                    "the new file",
                    path_.string())));
  }
  return {};
}

void SqliteStore::rollback() {
  if (sqlite3_get_autocommit(db_) != 0) {
    return;  // no transaction open (SQLite rolls back by itself after some errors)
  }
  StatementUse use(statements_->rollback);
  // If this fails the transaction stays open; the next write tries again before it begins.
  use.step();
}

std::vector<StoreWriteResult> SqliteStore::apply(std::span<const StoreWrite> writes) {
  std::lock_guard lock(mutex_);
  std::vector<StoreWriteResult> results;
  if (writes.empty()) {
    return results;
  }
  if (read_only_) {
    results.assign(
        writes.size(),
        std::unexpected(error(StoreErrorCode::kUnavailable,
                              fmt::format("sqlite store {} is open read-only", path_.string()))));
    return results;
  }
  const std::string what = writes.size() == 1 ? describeWrite(writes.front())
                                              : fmt::format("a batch of {} writes", writes.size());
  auto failAll = [&](const StoreError& failure) {
    rollback();
    results.assign(writes.size(), std::unexpected(failure));
    return results;
  };
  rollback();
  if (sqlite3_get_autocommit(db_) == 0) {
    return failAll(error(
        StoreErrorCode::kUnavailable,
        fmt::format("sqlite store: {} failed: an earlier transaction could not be rolled back",
                    what)));
  }
  StoreError failure{StoreErrorCode::kUnavailable, ""};
  if (!stepStatement(db_, statements_->begin_write, what, failure)) {
    return failAll(failure);
  }
  results.reserve(writes.size());
  std::optional<std::chrono::sys_time<std::chrono::milliseconds>> newest;  // of the audit records
  for (const auto& write : writes) {
    // Each write in a savepoint, so one that fails leaves no trace and the rest still commit.
    if (!stepStatement(db_, statements_->savepoint, what, failure)) {
      return failAll(failure);
    }
    StoreWriteResult result = writeOne(write);
    if (result && write.audit != nullptr) {
      if (auto recorded = insertAudit(*write.audit, *result, what); !recorded) {
        result = std::unexpected(std::move(recorded.error()));
      } else {
        newest = newest ? std::max(*newest, write.audit->at) : write.audit->at;
      }
    }
    if (!result && !stepStatement(db_, statements_->rollback_to_savepoint, what, failure)) {
      return failAll(failure);
    }
    if (!stepStatement(db_, statements_->release_savepoint, what, failure)) {
      return failAll(failure);
    }
    results.push_back(std::move(result));
  }
  if (newest) {
    if (auto trimmed = trimAudit(*newest, what); !trimmed) return failAll(trimmed.error());
  }
  if (!stepStatement(db_, statements_->commit, what, failure)) {
    return failAll(failure);  // nothing was written: every write fails with the commit's error
  }
  return results;
}

std::string SqliteStore::describeWrite(const StoreWrite& write) {
  switch (write.kind) {
    case StoreWrite::Kind::kCreate:
      return fmt::format("create of spoke '{}'", write.spoke->name);
    case StoreWrite::Kind::kReplace:
      return fmt::format("replace of spoke '{}'", write.spoke->name);
    case StoreWrite::Kind::kRemove:
      break;
  }
  return fmt::format("removal of spoke '{}'", write.name);
}

StoreWriteResult SqliteStore::writeOne(const StoreWrite& write) {
  switch (write.kind) {
    case StoreWrite::Kind::kCreate:
      return writeCreate(*write.spoke);
    case StoreWrite::Kind::kReplace:
      return writeReplace(*write.spoke, write.expected_generation);
    case StoreWrite::Kind::kRemove:
      break;
  }
  return writeRemove(write.name, write.expected_generation);
}

std::expected<std::optional<std::uint64_t>, StoreError> SqliteStore::storedGeneration(
    std::string_view name, std::string_view what) {
  StatementUse use(statements_->select_generation);
  use.bind(1, name);
  const int rc = use.step();
  if (rc == SQLITE_DONE) {
    return std::nullopt;
  }
  if (rc != SQLITE_ROW) {
    return std::unexpected(sqliteError(db_, rc, what));
  }
  return use.columnUint(0);
}

std::expected<void, StoreError> SqliteStore::checkGeneration(std::string_view name,
                                                             std::uint64_t expected_generation,
                                                             std::string_view what) {
  auto current = storedGeneration(name, what);
  if (!current) {
    return std::unexpected(current.error());
  }
  if (!*current) {
    return std::unexpected(
        error(StoreErrorCode::kNotFound, fmt::format("spoke '{}' does not exist", name)));
  }
  if (**current != expected_generation) {
    return std::unexpected(error(
        StoreErrorCode::kConflict,
        fmt::format("spoke '{}' has generation {}, not {}", name, **current, expected_generation)));
  }
  return {};
}

std::expected<std::uint64_t, StoreError> SqliteStore::bumpRevision(std::string_view what) {
  StatementUse use(statements_->bump_revision);
  int rc = use.step();
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) {
      return std::unexpected(
          error(StoreErrorCode::kCorrupt,
                "sqlite store: the revision counter is missing from table meta"));
    }
    return std::unexpected(sqliteError(db_, rc, what));
  }
  const std::uint64_t revision = use.columnUint(0);
  rc = use.step();
  if (rc != SQLITE_DONE) {
    return std::unexpected(sqliteError(db_, rc, what));
  }
  return revision;
}

std::expected<void, StoreError> SqliteStore::insertClaims(const peers::Spoke& spoke,
                                                          std::string_view what) {
  struct Guard {
    Statement Statements::*insert;
    Statement Statements::*holder;
    std::string_view kind;
  };
  // Inserts one claim row (key, spoke, and for outside addresses the hub as ?3); the second
  // guard behind the hub's own check, so a refusal names who holds the key.
  auto claim = [&](const Guard& guard, const auto& key, std::string_view key_text,
                   const std::string* hub = nullptr) -> std::expected<void, StoreError> {
    int rc = SQLITE_OK;
    {
      StatementUse insert((*statements_).*guard.insert);
      insert.bind(1, key).bind(2, spoke.name);
      if (hub != nullptr) insert.bind(3, std::string_view(*hub));
      rc = insert.step();
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_CONSTRAINT_PRIMARYKEY && rc != SQLITE_CONSTRAINT_UNIQUE) {
        return std::unexpected(sqliteError(db_, rc, what));
      }
    }
    StatementUse holder((*statements_).*guard.holder);
    holder.bind(1, key);
    if (hub != nullptr) holder.bind(3, std::string_view(*hub));
    std::string message;
    if (holder.step() == SQLITE_ROW && holder.columnText(0) != spoke.name) {
      message = fmt::format("{} {} is already used by spoke '{}'", guard.kind, key_text,
                            holder.columnText(0));
    } else {
      message =
          fmt::format("{} {} is listed twice in spoke '{}'", guard.kind, key_text, spoke.name);
    }
    return std::unexpected(error(StoreErrorCode::kConflict, std::move(message)));
  };
  const Guard inside{&Statements::insert_inside, &Statements::inside_holder,
                     "tunnel inside network"};
  const Guard outside{&Statements::insert_outside, &Statements::outside_holder,
                      "tunnel outside address"};
  const Guard tag{&Statements::insert_route_tag, &Statements::route_tag_holder, "route tag"};
  for (const peers::Tunnel& tunnel : spoke.tunnels) {
    const std::string cidr = tunnel.inside_cidr.toString();
    if (auto claimed = claim(inside, cidr, cidr); !claimed) return claimed;
    const std::string address = tunnel.outside_ip.toString();
    const std::string text = fmt::format("{} (on hub {})", address, tunnel.hub);
    if (auto claimed = claim(outside, address, text, &tunnel.hub); !claimed) return claimed;
  }
  if (spoke.route_tag != 0) {  // 0: not allocated yet (a version 1 record), nothing to claim
    const std::uint64_t key = spoke.route_tag;
    if (auto claimed = claim(tag, key, std::to_string(key)); !claimed) return claimed;
  }
  return {};
}

std::expected<StoreContents, StoreError> SqliteStore::load() {
  constexpr std::string_view kWhat = "loading the spokes";
  std::lock_guard lock(mutex_);
  rollback();
  {
    StatementUse begin(statements_->begin_read);
    if (const int rc = begin.step(); rc != SQLITE_DONE) {
      return std::unexpected(sqliteError(db_, rc, kWhat));
    }
  }
  auto contents = [&]() -> std::expected<StoreContents, StoreError> {
    StoreContents out;
    {
      StatementUse use(statements_->select_revision);
      const int rc = use.step();
      if (rc == SQLITE_DONE) {
        return std::unexpected(
            error(StoreErrorCode::kCorrupt,
                  "sqlite store: the revision counter is missing from table meta"));
      }
      if (rc != SQLITE_ROW) {
        return std::unexpected(sqliteError(db_, rc, kWhat));
      }
      out.revision = use.columnUint(0);
    }
    StatementUse use(statements_->select_all);
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      auto spoke = decodeRecord(use.columnText(0), use.columnUint(1), use.columnText(2), hub_name_);
      if (!spoke) {
        return std::unexpected(spoke.error());
      }
      out.spokes.push_back(std::move(*spoke));
    }
    if (rc != SQLITE_DONE) {
      return std::unexpected(sqliteError(db_, rc, kWhat));
    }
    return out;
  }();
  if (contents) {
    StatementUse commit(statements_->commit);
    if (const int rc = commit.step(); rc != SQLITE_DONE) {
      contents = std::unexpected(sqliteError(db_, rc, kWhat));
    }
  }
  rollback();
  return contents;
}

StoreWriteResult SqliteStore::writeCreate(const peers::Spoke& spoke) {
  const std::string what = fmt::format("create of spoke '{}'", spoke.name);
  const std::string record = encodeRecord(spoke);
  {
    auto current = storedGeneration(spoke.name, what);
    if (!current) {
      return std::unexpected(current.error());
    }
    if (*current) {
      return std::unexpected(
          error(StoreErrorCode::kConflict, fmt::format("spoke '{}' already exists", spoke.name)));
    }
    auto revision = bumpRevision(what);
    if (!revision) {
      return revision;
    }
    {
      StatementUse insert(statements_->insert_spoke);
      insert.bind(1, spoke.name).bind(2, spoke.generation).bind(3, *revision).bind(4, record);
      if (const int rc = insert.step(); rc != SQLITE_DONE) {
        return std::unexpected(sqliteError(db_, rc, what));
      }
    }
    if (auto inserted = insertClaims(spoke, what); !inserted) {
      return std::unexpected(inserted.error());
    }
    return revision;
  }
}

StoreWriteResult SqliteStore::writeReplace(const peers::Spoke& spoke,
                                           std::uint64_t expected_generation) {
  const std::string what = fmt::format("replace of spoke '{}'", spoke.name);
  const std::string record = encodeRecord(spoke);
  {
    if (auto checked = checkGeneration(spoke.name, expected_generation, what); !checked) {
      return std::unexpected(checked.error());
    }
    auto revision = bumpRevision(what);
    if (!revision) {
      return revision;
    }
    {
      StatementUse update(statements_->update_spoke);
      update.bind(1, spoke.name).bind(2, spoke.generation).bind(3, *revision).bind(4, record);
      if (const int rc = update.step(); rc != SQLITE_DONE) {
        return std::unexpected(sqliteError(db_, rc, what));
      }
    }
    // The spoke's claims are rewritten, so it may keep its own networks, addresses and tag.
    for (const Statement* remove : {&statements_->delete_inside, &statements_->delete_outside,
                                    &statements_->delete_route_tag}) {
      StatementUse use(*remove);
      use.bind(1, spoke.name);
      if (const int rc = use.step(); rc != SQLITE_DONE) {
        return std::unexpected(sqliteError(db_, rc, what));
      }
    }
    if (auto inserted = insertClaims(spoke, what); !inserted) {
      return std::unexpected(inserted.error());
    }
    return revision;
  }
}

StoreWriteResult SqliteStore::writeRemove(std::string_view name,
                                          std::uint64_t expected_generation) {
  const std::string what = fmt::format("removal of spoke '{}'", name);
  {
    if (auto checked = checkGeneration(name, expected_generation, what); !checked) {
      return std::unexpected(checked.error());
    }
    auto revision = bumpRevision(what);
    if (!revision) {
      return revision;
    }
    // The tunnel rows go with it (ON DELETE CASCADE; foreign_keys is verified at open).
    StatementUse use(statements_->delete_spoke);
    use.bind(1, name);
    if (const int rc = use.step(); rc != SQLITE_DONE) {
      return std::unexpected(sqliteError(db_, rc, what));
    }
    return revision;
  }
}

std::expected<void, StoreError> SqliteStore::insertAudit(const AuditRecord& record,
                                                         std::uint64_t revision,
                                                         std::string_view what) {
  StatementUse use(statements_->insert_audit);
  use.bind(1, static_cast<std::uint64_t>(record.at.time_since_epoch().count()))
      .bind(2, revision)
      .bind(3, record.spoke)
      .bind(4, encodeAuditRecord(record));
  if (const int rc = use.step(); rc != SQLITE_DONE) {
    return std::unexpected(sqliteError(db_, rc, what));
  }
  return {};
}

std::expected<void, StoreError> SqliteStore::trimAudit(
    std::chrono::sys_time<std::chrono::milliseconds> newest, std::string_view what) {
  const AuditRetention& keep = auditRetention();
  const auto cutoff = newest - std::chrono::duration_cast<std::chrono::milliseconds>(keep.max_age);
  StatementUse use(statements_->trim_audit);
  use.bind(1,
           static_cast<std::uint64_t>(std::max<std::int64_t>(0, cutoff.time_since_epoch().count())))
      .bind(2, static_cast<std::uint64_t>(std::max<std::size_t>(1, keep.max_records)));
  if (const int rc = use.step(); rc != SQLITE_DONE) {
    return std::unexpected(sqliteError(db_, rc, what));
  }
  return {};
}

std::expected<AuditPage, StoreError> SqliteStore::readAudit(const AuditQuery& query) const {
  constexpr std::string_view kWhat = "reading the audit trail";
  std::uint64_t before = std::numeric_limits<std::int64_t>::max();
  if (!query.before.empty()) {
    auto [end, ec] =
        std::from_chars(query.before.data(), query.before.data() + query.before.size(), before);
    if (ec != std::errc{} || end != query.before.data() + query.before.size() || before == 0) {
      return std::unexpected(
          error(StoreErrorCode::kNotFound,
                fmt::format("'{}' is not a cursor of this audit trail", query.before)));
    }
  }
  std::lock_guard lock(mutex_);
  // Serialized with the writer by the mutex: it sees every committed change, never half of one.
  StatementUse use(statements_->select_audit);
  use.bind(1, before).bind(2, query.spoke).bind(3, static_cast<std::uint64_t>(query.limit + 1));
  AuditPage page;
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    const std::uint64_t seq = use.columnUint(0);
    if (page.records.size() == query.limit) {
      page.next = page.records.back().id;
      break;
    }
    auto record = decodeAuditRecord(use.columnText(2));
    if (!record) {
      return std::unexpected(error(
          StoreErrorCode::kCorrupt,
          fmt::format("sqlite store: audit record {} cannot be read: {}", seq, record.error())));
    }
    record->id = std::to_string(seq);
    record->revision = use.columnUint(1);
    page.records.push_back(std::move(*record));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return std::unexpected(sqliteError(db_, rc, kWhat));
  }
  return page;
}

}  // namespace transit::hub
