#include "routing/bird/bird_reply.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fakes/fake_bird_server.hpp"

namespace transit::routing {
namespace {

using Status = BirdReplyReader::Status;

std::vector<BirdReply> frameAll(BirdReplyReader& reader) {
  std::vector<BirdReply> replies;
  BirdReply reply;
  while (reader.next(reply) == Status::kReply) replies.push_back(reply);
  return replies;
}

BirdReply frameOne(std::string_view bytes) {
  BirdReplyReader reader;
  reader.feed(bytes);
  BirdReply reply;
  EXPECT_EQ(reader.next(reply), Status::kReply);
  return reply;
}

std::vector<std::string> transcriptFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(TRANSIT_BIRD_DATA_DIR)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("bird_t_", 0) == 0 && name != "bird_t_echo.txt") {
      files.push_back(entry.path().string());
    }
  }
  return files;
}

bool isComplete(const std::string& reply) {
  // The last line is "DDDD text".
  const auto start = reply.rfind('\n', reply.size() - 2);
  const auto last = reply.substr(start == std::string::npos ? 0 : start + 1);
  return last.size() >= 5 && last[4] == ' ' && last[0] != ' ';
}

TEST(BirdReply, GreetingIsOneReplyWithCode1) {
  const auto reply = frameOne("0001 BIRD 2.0.12 ready.\n");
  EXPECT_EQ(reply.code, 1);
  ASSERT_EQ(reply.lines.size(), 1u);
  EXPECT_EQ(reply.lines[0].text, "BIRD 2.0.12 ready.");
}

TEST(BirdReply, ShowStatusEndsAt0013NotAt0000) {
  const auto reply = frameOne(
      "1000-BIRD 2.0.12\n1011-Router ID is 10.255.0.1\n Hostname is vm\n"
      " Last reboot on 2026-11-26 04:37:45.227\n0013 Daemon is up and running\n");
  EXPECT_EQ(reply.code, 13);
  ASSERT_EQ(reply.lines.size(), 5u);
  EXPECT_EQ(reply.lines[2], (BirdReplyLine{1011, "Hostname is vm"}));
  EXPECT_TRUE(reply.ok());
}

TEST(BirdReply, ContinuationStripsExactlyOneSpace) {
  const auto reply = frameOne("1007-Table master4:\n  10.1.0.0/16  unicast\n \tvia x\n0000 \n");
  ASSERT_EQ(reply.lines.size(), 4u);
  EXPECT_EQ(reply.lines[1], (BirdReplyLine{1007, " 10.1.0.0/16  unicast"}));
  EXPECT_EQ(reply.lines[2], (BirdReplyLine{1007, "\tvia x"}));
  EXPECT_EQ(reply.lines[3], (BirdReplyLine{0, ""}));
}

TEST(BirdReply, AsyncEchoLinesAreIgnored) {
  const auto reply = frameOne("+Disabling protocol spoke2\n0000 \n");
  EXPECT_EQ(reply.code, 0);
  EXPECT_EQ(reply.lines.size(), 1u);
}

TEST(BirdReply, ErrorFinalCodeIsNotOk) {
  const auto reply =
      frameOne("0002-Reading configuration from a.conf\n8002 a.conf:125:35 syntax error\n");
  EXPECT_EQ(reply.code, 8002);
  EXPECT_FALSE(reply.ok());
  EXPECT_EQ(reply.errorText(), "a.conf:125:35 syntax error");
}

TEST(BirdReply, IntermediateErrorLineMakesReplyNotOk) {
  const auto reply = frameOne("8006-spoke2: reload failed\n0000 \n");
  EXPECT_EQ(reply.code, 0);
  EXPECT_FALSE(reply.ok());
}

TEST(BirdReply, LineOverflowIsAnErrorReply) {
  const auto reply = frameOne("8000 <line overflow>\n");
  EXPECT_EQ(reply.code, 8000);
  EXPECT_FALSE(reply.ok());
}

TEST(BirdReply, CarriageReturnBeforeNewlineIsDropped) {
  const auto reply = frameOne("0020 Configuration OK\r\n");
  EXPECT_EQ(reply.lines[0].text, "Configuration OK");
}

TEST(BirdReply, IncompleteReplyNeedsMore) {
  BirdReplyReader reader;
  reader.feed("1002-spoke1a BGP\n 0000");
  BirdReply reply;
  EXPECT_EQ(reader.next(reply), Status::kNeedMore);
  reader.feed(" \n0000 \n");
  EXPECT_EQ(reader.next(reply), Status::kReply);
  EXPECT_EQ(reply.lines.size(), 3u);
}

TEST(BirdReply, TwoRepliesInOneReadAreFramedSeparately) {
  BirdReplyReader reader;
  reader.feed("0001 BIRD 2.0.12 ready.\n0009-spoke2: disabled\n0000 \n");
  const auto replies = frameAll(reader);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].code, 1);
  EXPECT_EQ(replies[1].lines[0], (BirdReplyLine{9, "spoke2: disabled"}));
}

TEST(BirdReply, GarbageLineIsAnError) {
  BirdReplyReader reader;
  reader.feed("hello\n");
  BirdReply reply;
  EXPECT_EQ(reader.next(reply), Status::kError);
  EXPECT_NE(reader.error().find("hello"), std::string::npos);
}

TEST(BirdReply, EndlessLineIsAnError) {
  BirdReplyReader reader;
  reader.feed(std::string(BirdReplyReader::kMaxLine + 1, 'x'));
  BirdReply reply;
  EXPECT_EQ(reader.next(reply), Status::kError);
}

TEST(BirdReply, EveryTranscriptFramesWholeAndByteByByteAlike) {
  const auto files = transcriptFiles();
  ASSERT_GE(files.size(), 15u);
  for (const auto& file : files) {
    const auto transcript = fakes::loadTranscript(file);
    // bird_t_hub8.txt was captured from the middle of a reply: skip that fragment.
    const bool whole_greeting = !transcript.greeting.empty() && transcript.greeting[0] == '0';
    std::string all = whole_greeting ? transcript.greeting : "";
    std::size_t complete = whole_greeting ? 1 : 0;
    for (const auto& exchange : transcript.exchanges) {
      all += exchange.reply;
      if (isComplete(exchange.reply)) ++complete;
    }
    BirdReplyReader whole;
    whole.feed(all);
    const auto at_once = frameAll(whole);
    BirdReplyReader bytes;
    std::vector<BirdReply> one_by_one;
    for (char c : all) {
      bytes.feed(std::string_view(&c, 1));
      auto more = frameAll(bytes);
      one_by_one.insert(one_by_one.end(), more.begin(), more.end());
    }
    EXPECT_EQ(at_once.size(), complete) << file;
    ASSERT_EQ(one_by_one.size(), at_once.size()) << file;
    for (std::size_t i = 0; i < at_once.size(); ++i) {
      EXPECT_EQ(one_by_one[i].code, at_once[i].code) << file;
      EXPECT_EQ(one_by_one[i].lines, at_once[i].lines) << file;
    }
  }
}

TEST(BirdReply, EchoTranscriptIgnoresAsyncLines) {
  // bird_t_echo.txt, as raw bytes: an echo arrives between two replies.
  BirdReplyReader reader;
  reader.feed("0001 BIRD 2.0.12 ready.\n0000 \n+Disabling protocol spoke2\n");
  reader.feed("1000-BIRD 2.0.12\n1011-Router ID is 10.255.0.1\n Hostname is vm\n");
  reader.feed("0013 Daemon is up and running\n+Enabling protocol spoke2\n0000 \n");
  const auto replies = frameAll(reader);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[2].code, 13);
  EXPECT_EQ(replies[2].lines.size(), 4u);
  EXPECT_EQ(replies[3].code, 0);
}

// ---- corpus replay ----

// Every stream of tests/data/corpus/bird_reply (real BIRD sessions, cut, with CRLF line ends and
// mutated; made by make_corpus.py) is framed whole and byte by byte. Both must give the replies
// and the end state in the checked-in `.expected` (TRANSIT_UPDATE_GOLDEN=1 rewrites it), and every
// reply must be well formed.

std::string readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The replies framed from `chunks` fed in order, then how the stream ended, one line each.
std::string frameDescribed(const std::vector<std::string_view>& chunks, const std::string& file) {
  BirdReplyReader reader;
  std::string out;
  Status status = Status::kNeedMore;
  for (const auto chunk : chunks) {
    reader.feed(chunk);
    BirdReply reply;
    while ((status = reader.next(reply)) == Status::kReply) {
      EXPECT_FALSE(reply.lines.empty()) << file;
      if (reply.lines.empty()) continue;
      EXPECT_EQ(reply.code, reply.lines.back().code) << file;
      out +=
          fmt::format("reply {:04} ({} lines) ok={}", reply.code, reply.lines.size(), reply.ok());
      for (const auto& line : reply.lines) {
        EXPECT_GE(line.code, 0) << file;
        EXPECT_LE(line.code, 9999) << file;
        EXPECT_EQ(line.text.find('\n'), std::string::npos) << file;
      }
      out += fmt::format(" last={:?}\n", reply.lines.back().text);
    }
    if (status == Status::kError) break;
  }
  if (status == Status::kError) {
    EXPECT_FALSE(reader.error().empty()) << file;
    BirdReply again;
    EXPECT_EQ(reader.next(again), Status::kError) << file << ": an error is final";
    return out + "error: " + reader.error() + "\n";
  }
  return out + "need more\n";
}

TEST(BirdReplyCorpus, EveryStreamFramesToItsExpectedRepliesInAnySplit) {
  const std::filesystem::path dir = std::string(TRANSIT_BIRD_DATA_DIR) + "/../corpus/bird_reply";
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".bin") inputs.push_back(entry.path());
  }
  std::ranges::sort(inputs);
  ASSERT_GE(inputs.size(), 40U) << "the corpus is missing; run tests/data/corpus/make_corpus.py";
  const bool update = std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr;
  for (const auto& input : inputs) {
    const std::string bytes = readBytes(input);
    const std::string file = input.filename().string();
    const std::string whole = frameDescribed({bytes}, file);
    std::vector<std::string_view> single_bytes;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      single_bytes.push_back(std::string_view(bytes).substr(i, 1));
    }
    EXPECT_EQ(frameDescribed(single_bytes, file), whole) << file << ": split changes the result";
    auto expected_path = input;
    expected_path.replace_extension(".expected");
    if (update) std::ofstream(expected_path, std::ios::binary) << whole;
    ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path;
    EXPECT_EQ(whole, readBytes(expected_path)) << file;
  }
}

}  // namespace
}  // namespace transit::routing
