// DriverError: how a driver call failed, classified so the reconciler knows what to do next.
//
// Shared by the tunnel driver (peers/) and the routing driver (routing/); lives in the lowest
// library so both can use it.
#pragma once

#include <string>

namespace transit {

struct DriverError {
  enum class Kind {
    kInvalid,          // the daemon refused what we rendered; retrying the same input won't help
    kTransient,        // timeout, daemon busy or restarting, socket dropped: back off and retry
    kNeedsDependency,  // waits for something else (the daemon is not running, a tunnel not up)
  };
  Kind kind = Kind::kTransient;
  std::string message;  // for operators; never contains a PSK
};

}  // namespace transit
