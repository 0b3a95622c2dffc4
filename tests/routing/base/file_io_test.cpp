// The file I/O floor: atomic writes (mode whatever the umask, replaced whole, symlinks refused),
// private directories, bounded reads; errors name the path and never the content.
#include "routing/base/file_io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/fakes/temp_dir.hpp"

namespace transit {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned modeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777U;
}

// Sets the process umask for one test and restores it after.
class Umask {
 public:
  explicit Umask(mode_t mask) : saved_(::umask(mask)) {}
  ~Umask() { ::umask(saved_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t saved_;
};

constexpr std::string_view kSecret = "s3cret-psk-value";

TEST(WriteAtomically, ModeIsTheOneAskedForWhateverTheUmask) {
  fakes::TempDir dir;
  {
    Umask strict(0077);
    ASSERT_TRUE(writeAtomically(dir / "open", "x\n", {.mode = 0644}).has_value());
  }
  {
    Umask loose(0);
    ASSERT_TRUE(writeAtomically(dir / "private", "x\n", {.mode = 0600}).has_value());
  }
  EXPECT_EQ(modeOf(dir / "open"), 0644U);
  EXPECT_EQ(modeOf(dir / "private"), 0600U);
}

TEST(WriteAtomically, ReplacesTheFileWholeAndLeavesNoTemporaryFile) {
  fakes::TempDir dir;
  const auto path = dir.write("conf", "old content that is longer than the new one\n",
                              fs::perms::owner_all | fs::perms::group_read);
  ASSERT_TRUE(writeAtomically(path, "new\n", {.mode = 0600}).has_value());
  EXPECT_EQ(slurp(path), "new\n");
  EXPECT_EQ(modeOf(path), 0600U);  // an existing file's mode is replaced too
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(WriteAtomically, ASymlinkAtThePathIsRefusedAndItsTargetUntouched) {
  fakes::TempDir dir;
  const auto target = dir.write("target", "keep\n");
  fs::create_symlink(target, dir / "link");
  const auto written = writeAtomically(dir / "link", kSecret, {.mode = 0600});
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().find((dir / "link").string()), std::string::npos);
  EXPECT_NE(written.error().find("symlink"), std::string::npos);
  EXPECT_EQ(written.error().find(kSecret), std::string::npos);
  EXPECT_EQ(slurp(target), "keep\n");
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
}

TEST(WriteAtomically, ASymlinkAtTheTemporaryPathIsNotFollowed) {
  fakes::TempDir dir;
  const auto target = dir.write("target", "keep\n");
  fs::create_symlink(target, dir / "conf.tmp");
  const auto written = writeAtomically(dir / "conf", kSecret, {.mode = 0600});
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().find("conf.tmp"), std::string::npos);
  EXPECT_EQ(written.error().find(kSecret), std::string::npos);
  EXPECT_EQ(slurp(target), "keep\n");
}

TEST(WriteAtomically, MissingDirectoryIsAnErrorUnlessAskedToMakeIt) {
  fakes::TempDir dir;
  const auto path = dir / "a/b/conf";
  const auto refused = writeAtomically(path, kSecret, {.mode = 0600});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find((dir / "a/b").string()), std::string::npos);
  EXPECT_EQ(refused.error().find(kSecret), std::string::npos);

  Umask loose(0);
  ASSERT_TRUE(writeAtomically(path, "x\n", {.mode = 0600, .make_dirs = true}).has_value());
  EXPECT_EQ(slurp(path), "x\n");
  EXPECT_EQ(modeOf(dir / "a"), 0700U);
  EXPECT_EQ(modeOf(dir / "a/b"), 0700U);
}

TEST(WriteAtomically, AFileWhereADirectoryShouldBeIsAnErrorNamingIt) {
  fakes::TempDir dir;
  const auto blocker = dir.write("blocker", "a file\n");
  const auto written = writeAtomically(blocker / "sub/conf", kSecret, {.make_dirs = true});
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error(), "cannot write " + (blocker / "sub/conf").string() +
                                 ": not a directory: " + blocker.string());
}

TEST(MakePrivateDirs, CreatesMissingParents0700AndLeavesExistingOnesAlone) {
  fakes::TempDir dir;
  fs::create_directory(dir / "existing");
  fs::permissions(dir / "existing",
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  Umask strict(0777);  // would leave the owner nothing if the mode were not set explicitly
  ASSERT_TRUE(makePrivateDirs(dir / "existing/one/two").has_value());
  EXPECT_EQ(modeOf(dir / "existing"), 0750U);
  EXPECT_EQ(modeOf(dir / "existing/one"), 0700U);
  EXPECT_EQ(modeOf(dir / "existing/one/two"), 0700U);
  ASSERT_TRUE(makePrivateDirs(dir / "existing/one/two").has_value());  // idempotent
}

TEST(MakePrivateDirs, ErrorsAreReturnedNotIgnored) {
  // sysfs refuses mkdir to everyone, root included.
  const fs::path dir = "/sys/transit-file-io-test/sub";
  const auto made = makePrivateDirs(dir);
  ASSERT_FALSE(made.has_value());
  EXPECT_TRUE(made.error().starts_with("cannot create directory /sys/transit-file-io-test: "))
      << made.error();
}

TEST(ReadFile, ReadsUpToTheLimitAndRefusesMore) {
  fakes::TempDir dir;
  const auto path = dir.write("f", "0123456789");
  EXPECT_EQ(readFile(path, 10), "0123456789");
  EXPECT_EQ(readFile(path, 100), "0123456789");
  const auto over = readFile(path, 9);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error(), path.string() + " is larger than 9 bytes");
  EXPECT_EQ(over.error().find("0123"), std::string::npos);
  EXPECT_EQ(readFile(dir.write("empty", ""), 0), "");
}

TEST(ReadFile, MissingFileNamesThePath) {
  fakes::TempDir dir;
  const auto missing = readFile(dir / "nope", 10);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(),
            "cannot read " + (dir / "nope").string() + ": No such file or directory");
  EXPECT_FALSE(checkReadable(dir / "nope").has_value());
  EXPECT_FALSE(checkReadable(dir.path()).has_value());  // a directory cannot be read
  EXPECT_TRUE(checkReadable(dir.write("f", "x")).has_value());
}

TEST(LegacyNames, ReadWholeFileAndWriteFileAtomicallyKeepTheirSemantics) {
  fakes::TempDir dir;
  const auto path = (dir / "conf").string();
  ASSERT_TRUE(writeFileAtomically(path, "a\n").has_value());
  EXPECT_EQ(modeOf(path), 0644U);
  EXPECT_EQ(readWholeFile(path), "a\n");
  EXPECT_EQ(readWholeFile((dir / "nope").string()), std::nullopt);
  EXPECT_FALSE(writeFileAtomically((dir / "no/dir/conf").string(), "a\n").has_value());
}

}  // namespace
}  // namespace transit
