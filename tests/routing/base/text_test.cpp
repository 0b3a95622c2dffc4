#include "routing/base/text.hpp"

#include <gtest/gtest.h>

namespace transit::routing {
namespace {

TEST(Trim, DropsWhitespaceAtBothEndsOnly) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("\v\fx"), "x");
  EXPECT_EQ(trim("x"), "x");
}

TEST(Trim, AllBlankOrEmptyIsEmpty) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim("  \t", kBlanks), "");
}

TEST(Trim, KeepsWhatIsNotInTheSet) {
  // BIRD's blanks are space and tab: a line end is content there.
  EXPECT_EQ(trim(" up\n ", kBlanks), "up\n");
  EXPECT_EQ(trim("--x--", "-"), "x");
}

static_assert(trim("  ok ") == "ok");

}  // namespace
}  // namespace transit::routing
