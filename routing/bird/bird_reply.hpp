// BIRD control-socket reply framing: turns the byte stream of BIRD's CLI socket into replies.
//
// Owns: a buffer of bytes not yet framed. Pure (no I/O); used by BirdClient on the reconciler's
// thread and by tests. Line forms (daemon-protocols.md §1.1): "DDDD-text" (more follows),
// " text" (continuation with the previous code; exactly one space is stripped), "+text"
// (asynchronous log echo, ignored), "DDDD text" (last line of a reply). The final code is often
// not 0000 (0013, 0020, 8002, ...).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transit::routing {

struct BirdReplyLine {
  int code = 0;
  std::string text;

  bool operator==(const BirdReplyLine&) const = default;
};

struct BirdReply {
  int code = 0;                      // the final line's code
  std::vector<BirdReplyLine> lines;  // every line, the final one included

  // Final code below 8000 and no intermediate 8xxx/9xxx line.
  bool ok() const;
  // The text of the first line with an error code (>= 8000), or "".
  std::string errorText() const;
};

class BirdReplyReader {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;

  enum class Status {
    kNeedMore,  // no complete reply yet; feed more bytes
    kReply,     // a reply was stored in `out`
    kError,     // the stream is not BIRD's protocol; drop the connection
  };

  // Appends bytes read from the socket (any split is fine).
  void feed(std::string_view bytes);
  // Frames the next complete reply from the bytes fed so far.
  Status next(BirdReply& out);
  // Discards everything (after a reconnect).
  void reset();
  const std::string& error() const { return error_; }

 private:
  std::string buffer_;
  std::size_t pos_ = 0;  // start of the first unconsumed line in buffer_
  BirdReply current_;
  int last_code_ = -1;  // code a continuation line inherits; -1 before any coded line
  bool failed_ = false;
  std::string error_;
};

// Text helpers for the reply parsers: `text` without leading and trailing blanks (space, tab),
// and the next blank-separated token of `text`, which is advanced past it (empty at the end).
std::string_view trimBlanks(std::string_view text);
std::string_view nextToken(std::string_view& text);

}  // namespace transit::routing
