// TempDir: a fresh private directory under the system's temp dir, removed with everything in it
// when the test ends. Test support shared by every test that needs files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace transit::fakes {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "transit-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path path(std::string_view name) const { return path_ / name; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  // Writes `contents` to `name` (creating parent directories) with `perms`; returns its path.
  std::filesystem::path write(
      const std::filesystem::path& name, std::string_view contents,
      std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_write) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << contents;
    std::filesystem::permissions(file, perms);
    return file;
  }

  // A shell script that does nothing, with mode 0755 (a stand-in for a program).
  std::filesystem::path writeExecutable(const std::filesystem::path& name) const {
    using std::filesystem::perms;
    return write(name, "#!/bin/sh\nexit 0\n",
                 perms::owner_all | perms::group_read | perms::group_exec | perms::others_read |
                     perms::others_exec);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace transit::fakes
