// Serving until SIGINT/SIGTERM: runs the io_context on the API threads; on the first signal it
// tells systemd (STOPPING=1) and stops the server (no new connections, idle ones closed, requests
// in flight answer with Connection: close), waits until every session has ended and then stops
// the io_context; after `grace`, whatever is left is closed.
//
// Owns the signal set and the grace timer. Called once by main.cpp on the main thread, which
// becomes one of the io_context's threads; returns when every thread has left io.run().
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

#include "http/server.hpp"

namespace transit::hub {

void serveUntilSignal(boost::asio::io_context& io, http::Server& server, unsigned threads,
                      std::chrono::seconds grace);

}  // namespace transit::hub
