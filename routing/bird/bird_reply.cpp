#include "routing/bird/bird_reply.hpp"

#include <fmt/format.h>

#include "routing/base/text.hpp"

namespace transit::routing {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "DDDD" followed by '-' or ' '.
bool hasCode(std::string_view line) {
  return line.size() >= 5 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) &&
         isDigit(line[3]) && (line[4] == '-' || line[4] == ' ');
}

int codeOf(std::string_view line) {
  return (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace

bool BirdReply::ok() const {
  if (code >= 8000) return false;
  for (const auto& line : lines) {
    if (line.code >= 8000) return false;
  }
  return true;
}

std::string BirdReply::errorText() const {
  for (const auto& line : lines) {
    if (line.code >= 8000) return line.text;
  }
  return "";
}

void BirdReplyReader::feed(std::string_view bytes) {
  if (failed_) return;
  buffer_.append(bytes);
}

void BirdReplyReader::reset() {
  buffer_.clear();
  pos_ = 0;
  current_ = BirdReply{};
  last_code_ = -1;
  failed_ = false;
  error_.clear();
}

BirdReplyReader::Status BirdReplyReader::next(BirdReply& out) {
  if (failed_) return Status::kError;
  for (;;) {
    const auto newline = buffer_.find('\n', pos_);
    if (newline == std::string::npos) {
      if (buffer_.size() - pos_ > kMaxLine) {
        failed_ = true;
        error_ = "reply line longer than 64 KiB";
        return Status::kError;
      }
      // Compact so the buffer does not grow with consumed bytes.
      buffer_.erase(0, pos_);
      pos_ = 0;
      return Status::kNeedMore;
    }
    std::string_view line(buffer_.data() + pos_, newline - pos_);
    pos_ = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == '+') continue;  // asynchronous log echo
    if (line.front() == ' ') {
      if (last_code_ < 0) {
        failed_ = true;
        error_ = "continuation line before any reply code";
        return Status::kError;
      }
      current_.lines.push_back({last_code_, std::string(line.substr(1))});
      continue;
    }
    if (!hasCode(line)) {
      failed_ = true;
      error_ = fmt::format("unexpected line from BIRD: '{}'", printable(line));
      return Status::kError;
    }
    last_code_ = codeOf(line);
    current_.lines.push_back({last_code_, std::string(line.substr(5))});
    if (line[4] == ' ') {
      current_.code = last_code_;
      out = std::move(current_);
      current_ = BirdReply{};
      last_code_ = -1;
      return Status::kReply;
    }
  }
}

std::string_view trimBlanks(std::string_view text) { return trim(text, kBlanks); }

std::string_view nextToken(std::string_view& text) {
  const auto start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    text = {};
    return {};
  }
  const auto end = text.find_first_of(" \t", start);
  const auto token = text.substr(start, end == std::string_view::npos ? end : end - start);
  text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  return token;
}

}  // namespace transit::routing
