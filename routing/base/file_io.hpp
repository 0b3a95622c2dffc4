// File I/O for state and daemon files: one set of semantics for every writer (the BIRD include,
// libreswan conns and secrets, the nftables scripts, the SQLite store's directory, the config).
//
// Owns nothing; free functions, any thread. Semantics, the same everywhere:
// - Atomic write: the content goes to PATH.tmp (opened O_NOFOLLOW, given `mode` whatever the
//   umask), is fsynced, renamed over PATH, and then the directory is fsynced, so after a crash
//   readers see the old file or the new one, never a part, and never lose the rename. A symlink
//   at PATH (or at PATH.tmp) is refused, never followed or replaced.
// - Private directories: makePrivateDirs creates each missing directory 0700 (whatever the
//   umask) and syncs its parent; every error is returned, none is ignored.
// - Bounded read: readFile(path, limit) refuses a file larger than `limit` bytes.
// Errors are plain messages that name the path and the system's reason, never the content (it
// may hold keys).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace transit {

// The whole file, at most `limit` bytes. Errors: "cannot read <path>: <reason>", or
// "<path> is larger than <limit> bytes" when it has more.
std::expected<std::string, std::string> readFile(const std::filesystem::path& path,
                                                 std::size_t limit);

// The file can be opened and read (its first byte, if any). Error: "cannot read <path>: <reason>".
std::expected<void, std::string> checkReadable(const std::filesystem::path& path);

// fsyncs the directory, making entries created or renamed in it durable. Errors:
// "cannot open directory <dir>: <reason>", "cannot sync directory <dir>: <reason>".
std::expected<void, std::string> syncDirectory(const std::filesystem::path& dir);

// Creates `dir` and its missing parents, each 0700 whatever the umask, syncing the parent of
// each one created. Existing directories are left as they are. Errors: "not a directory: <p>",
// "cannot create directory <p>: <reason>", "cannot set the mode of <p>: <reason>", or a sync error.
std::expected<void, std::string> makePrivateDirs(const std::filesystem::path& dir);

struct WriteOptions {
  mode_t mode = 0644;      // the file's mode, whatever the umask
  bool make_dirs = false;  // create missing directories first (makePrivateDirs: 0700)
};

// Replaces `path` atomically with `content` (see the header comment). Errors:
// "refusing to replace symlink <path>", or "cannot write <path>: <reason>" where the reason may
// be a directory error (makePrivateDirs, syncDirectory), which names that directory.
std::expected<void, std::string> writeAtomically(const std::filesystem::path& path,
                                                 std::string_view content, WriteOptions options);

// ---- the names earlier callers use (same semantics as above) ----

// The whole file, unbounded; nullopt when it does not exist or cannot be read.
std::optional<std::string> readWholeFile(const std::string& path);

// writeAtomically with `mode`; the directory must exist.
std::expected<void, std::string> writeFileAtomically(const std::string& path,
                                                     std::string_view content, mode_t mode = 0644);

}  // namespace transit
