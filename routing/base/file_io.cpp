#include "routing/base/file_io.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

namespace transit {
namespace {

namespace fs = std::filesystem;

std::string reason(int error) { return std::error_code(error, std::generic_category()).message(); }

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now; false (errno set) when close reports an error.
  bool close() { return ::close(std::exchange(fd_, -1)) == 0; }

 private:
  int fd_;
};

bool isSymlink(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode);
}

bool writeAll(int fd, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The directory a relative path without one lives in.
fs::path directoryOf(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

}  // namespace

std::expected<std::string, std::string> readFile(const fs::path& path, std::size_t limit) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return std::unexpected(fmt::format("cannot read {}: {}", path.string(), reason(errno)));
  }
  std::string contents;
  char buffer[4096];
  // One byte past the limit tells a file of exactly `limit` bytes from a larger one.
  while (contents.size() <= limit) {
    const std::size_t want = std::min(sizeof buffer, limit + 1 - contents.size());
    const ssize_t n = ::read(fd.get(), buffer, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return std::unexpected(fmt::format("cannot read {}: {}", path.string(), reason(errno)));
    }
    if (n == 0) return contents;
    contents.append(buffer, static_cast<std::size_t>(n));
  }
  return std::unexpected(fmt::format("{} is larger than {} bytes", path.string(), limit));
}

std::expected<void, std::string> checkReadable(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char byte = 0;
  ssize_t n = -1;
  if (fd.get() >= 0) {
    do {
      n = ::read(fd.get(), &byte, 1);
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0) {
    return std::unexpected(fmt::format("cannot read {}: {}", path.string(), reason(errno)));
  }
  return {};
}

std::expected<void, std::string> syncDirectory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return std::unexpected(
        fmt::format("cannot open directory {}: {}", dir.string(), reason(errno)));
  }
  if (::fsync(fd.get()) != 0) {
    return std::unexpected(
        fmt::format("cannot sync directory {}: {}", dir.string(), reason(errno)));
  }
  return {};
}

std::expected<void, std::string> makePrivateDirs(const fs::path& dir) {
  constexpr mode_t kDirectoryMode = 0700;
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat info {};
    if (::stat(p.c_str(), &info) == 0) {
      if (!S_ISDIR(info.st_mode)) {
        return std::unexpected(fmt::format("not a directory: {}", p.string()));
      }
      break;
    }
    // ENOTDIR: a file further up, found as "not a directory" on the way.
    if (errno != ENOENT && errno != ENOTDIR) {
      return std::unexpected(fmt::format("cannot inspect {}: {}", p.string(), reason(errno)));
    }
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), kDirectoryMode) != 0) {
      if (errno == EEXIST) continue;  // made by someone else meanwhile
      return std::unexpected(
          fmt::format("cannot create directory {}: {}", it->string(), reason(errno)));
    }
    // The umask may have cleared owner bits; the mode is meant exactly.
    if (::chmod(it->c_str(), kDirectoryMode) != 0) {
      return std::unexpected(
          fmt::format("cannot set the mode of {}: {}", it->string(), reason(errno)));
    }
    if (auto synced = syncDirectory(directoryOf(*it)); !synced) {
      return synced;
    }
  }
  return {};
}

std::expected<void, std::string> writeAtomically(const fs::path& path, std::string_view content,
                                                 WriteOptions options) {
  const fs::path dir = directoryOf(path);
  if (options.make_dirs) {
    if (auto made = makePrivateDirs(dir); !made) {
      return std::unexpected(fmt::format("cannot write {}: {}", path.string(), made.error()));
    }
  }
  if (isSymlink(path)) {
    return std::unexpected(fmt::format("refusing to replace symlink {}", path.string()));
  }
  const fs::path temp = path.string() + ".tmp";
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, options.mode));
  if (fd.get() < 0) {
    return std::unexpected(fmt::format("cannot write {}: {}", temp.string(), reason(errno)));
  }
  bool ok = ::fchmod(fd.get(), options.mode) == 0 && writeAll(fd.get(), content) &&
            ::fsync(fd.get()) == 0;
  int why = errno;
  if (!fd.close() && ok) {
    ok = false;
    why = errno;
  }
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    why = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return std::unexpected(fmt::format("cannot write {}: {}", path.string(), reason(why)));
  }
  if (auto synced = syncDirectory(dir); !synced) {
    return std::unexpected(fmt::format("cannot write {}: {}", path.string(), synced.error()));
  }
  return {};
}

std::optional<std::string> readWholeFile(const std::string& path) {
  auto text = readFile(path, std::string().max_size() - 1);
  if (!text) return std::nullopt;
  return std::move(*text);
}

std::expected<void, std::string> writeFileAtomically(const std::string& path,
                                                     std::string_view content, mode_t mode) {
  return writeAtomically(path, content, WriteOptions{.mode = mode});
}

}  // namespace transit
