// Health: the named readiness checks behind /readyz.
//
// Owns: the list of checks. Checks are registered once by hub/daemon/main.cpp before the server
// starts and then only evaluated; evaluation runs on HTTP threads and must not block (each check
// reads state its component already keeps).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace transit::hub {

class Health {
 public:
  struct Status {
    bool ok = false;
    std::string reason;  // why not, when !ok; a short sentence for operators
  };
  struct Check {
    std::string name;
    Status status;
  };

  void add(std::string name, std::function<Status()> check);
  std::vector<Check> evaluate() const;
  static bool ready(const std::vector<Check>& checks);

 private:
  std::vector<std::pair<std::string, std::function<Status()>>> checks_;
};

}  // namespace transit::hub
