// Shared by bird_driver_test.cpp (unit) and bird_driver_tool_test.cpp (tool): the driver
// options and specs both run against.
#pragma once

#include "routing/bird/bird_driver.hpp"
#include "tests/fakes/temp_dir.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "tests/fakes/fake_bird_server.hpp"

namespace transit::routing {
namespace {

using transit::fakes::TempDir;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

BgpSessionSpec session(std::string name, std::string spoke, std::uint32_t tag,
                       std::string_view local, std::string_view neighbor) {
  BgpSessionSpec s;
  s.name = std::move(name);
  s.spoke = std::move(spoke);
  s.spoke_tag = tag;
  s.local_address = ip(local);
  s.neighbor_address = ip(neighbor);
  s.neighbor_as = 64512;
  s.accepted = {*Ipv4Prefix::parse("10.1.0.0/16")};
  return s;
}

RoutingSpec twoSessions() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {session("th_vpc_a_1", "vpc-a", 1, "169.254.10.2", "169.254.10.1"),
                   session("th_vpc_b_1", "vpc-b", 2, "169.254.20.2", "169.254.20.1")};
  return spec;
}

BirdOptions optionsIn(const TempDir& dir) {
  BirdOptions options;
  options.socket_path = dir / "bird.ctl";
  options.include_path = dir / "transit-hub.conf";
  options.main_config_path = dir / "bird.conf";
  options.router_id = ip("10.255.0.1");
  options.configure_timeout = std::chrono::seconds(30);
  options.command_timeout = std::chrono::seconds(10);
  return options;
}

}  // namespace
}  // namespace transit::routing
