// Whole-file reads and crash-safe writes, shared by every driver that owns a file on disk (the
// BIRD include, libreswan conns and secrets, the nftables script, dry-run output).
//
// Owns nothing; free functions, any thread. A write goes to PATH.tmp (opened O_NOFOLLOW, given
// `mode` whatever the umask), is fsynced and renamed over PATH, so readers see the old file or
// the new one, never a part. Errors name the path, never the content (it may hold keys).
#pragma once

#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace transit {

// The whole file; nullopt when it does not exist or cannot be read.
std::optional<std::string> readWholeFile(const std::string& path);

// Replaces `path` atomically with `content`, file mode `mode`. The directory must exist.
std::expected<void, std::string> writeFileAtomically(const std::string& path,
                                                     std::string_view content,
                                                     mode_t mode = 0644);

}  // namespace transit
