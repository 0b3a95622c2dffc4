// FakeEtcdTransport: an EtcdTransport that answers from a script and records every request, for
// EtcdStore's unit tests (tests/hub/store/etcd/etcd_store_test.cpp).
//
// Owns: nothing; the script (answers to give, requests seen) is shared with the test, which keeps
// it after handing the transport to a store. A post() with no scripted answer left fails the
// test and answers kUnavailable. Any thread (a mutex guards the script).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/store/etcd/etcd_client.hpp"

namespace transit::fakes {

struct EtcdCall {
  std::string path;
  boost::json::value body;
};

class EtcdScript {
 public:
  // The next post() answers this JSON text.
  void answer(std::string_view json) {
    std::lock_guard lock(mutex_);
    answers_.emplace_back(boost::json::parse(json));
  }
  // The next post() fails so.
  void fail(hub::EtcdError error) {
    std::lock_guard lock(mutex_);
    answers_.emplace_back(std::unexpected(std::move(error)));
  }
  std::vector<EtcdCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t unanswered() const {
    std::lock_guard lock(mutex_);
    return answers_.size();
  }

  std::expected<boost::json::value, hub::EtcdError> next(std::string_view path,
                                                         const boost::json::value& body) {
    std::lock_guard lock(mutex_);
    calls_.push_back(EtcdCall{std::string(path), body});
    if (answers_.empty()) {
      ADD_FAILURE() << "no scripted answer for " << path;
      return std::unexpected(hub::EtcdError{hub::EtcdErrorKind::kUnavailable, "no answer"});
    }
    auto out = std::move(answers_.front());
    answers_.pop_front();
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<std::expected<boost::json::value, hub::EtcdError>> answers_;
  std::vector<EtcdCall> calls_;
};

class FakeEtcdTransport final : public hub::EtcdTransport {
 public:
  explicit FakeEtcdTransport(std::shared_ptr<EtcdScript> script) : script_(std::move(script)) {}
  std::expected<boost::json::value, hub::EtcdError> post(std::string_view path,
                                                         const boost::json::value& body) override {
    return script_->next(path, body);
  }

 private:
  std::shared_ptr<EtcdScript> script_;
};

}  // namespace transit::fakes
