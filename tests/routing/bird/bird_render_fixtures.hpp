// Shared by bird_render_test.cpp (unit) and bird_render_tool_test.cpp (tool): the specs the
// BIRD renderer tests render, and the golden files under tests/data/bird.
#pragma once

#include "routing/bird/bird_render.hpp"
#include "tests/fakes/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>

namespace transit::routing {
namespace {

using transit::fakes::TempDir;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }
Ipv4Prefix net(std::string_view text) { return *Ipv4Prefix::parse(text); }

BgpSessionSpec session(std::string name, std::string spoke, std::uint32_t tag, int index,
                       std::string_view local, std::string_view neighbor, std::uint32_t asn,
                       std::vector<Ipv4Prefix> accepted) {
  BgpSessionSpec s;
  s.name = std::move(name);
  s.spoke = std::move(spoke);
  s.spoke_tag = tag;
  s.index = index;
  s.local_address = ip(local);
  s.neighbor_address = ip(neighbor);
  s.neighbor_as = asn;
  s.accepted = std::move(accepted);
  s.export_segments = {"default"};
  return s;
}

// The lab: two VGW stand-ins with ASN 64512 (two tunnels each) and a site with its own ASN, all
// in the default segment (any-to-any). Route tags in creation order: vpc-a 1, vpc-b 2, site-1 3.
[[maybe_unused]] RoutingSpec labSpec() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {
      session("th_site_1_1", "site-1", 3, 1, "169.254.30.2", "169.254.30.1", 65010,
              {net("172.16.1.0/24")}),
      session("th_vpc_a_1", "vpc-a", 1, 1, "169.254.10.2", "169.254.10.1", 64512,
              {net("10.1.0.0/16"), net("10.11.0.0/16")}),
      session("th_vpc_a_2", "vpc-a", 1, 2, "169.254.10.6", "169.254.10.5", 64512,
              {net("10.1.0.0/16"), net("10.11.0.0/16")}),
      session("th_vpc_b_1", "vpc-b", 2, 1, "169.254.20.2", "169.254.20.1", 64512,
              {net("10.2.0.0/16")}),
  };
  spec.sessions[3].import_limit = 50;
  return spec;
}

StaticSpokeSpec staticSpoke(std::string name, std::string spoke, std::uint32_t tag,
                            std::string segment, std::vector<Ipv4Prefix> cidrs,
                            std::vector<Ipv4Address> next_hops) {
  StaticSpokeSpec s;
  s.name = std::move(name);
  s.spoke = std::move(spoke);
  s.spoke_tag = tag;
  s.segment = std::move(segment);
  s.cidrs = std::move(cidrs);
  s.next_hops = std::move(next_hops);
  return s;
}

// Three segments: dev and prod each exchange routes with shared, not with each other. Segment
// ids: dev 1, prod 2, shared 3. Route tags (the registry's, not the names' order): dev-a 4,
// prod-a 9, prod-c 2, shared-1 7.
// prod-a (two tunnels) prefers the other hub (prepend 2, MED 50); shared-1 is sent only the two
// summaries (10/8 covers prod's, 172.16/12 dev's); prod-c is a static spoke over two tunnels.
[[maybe_unused]] RoutingSpec policySpec() {
  RoutingSpec spec;
  spec.local_as = 65000;
  spec.router_id = ip("10.255.0.1");
  spec.sessions = {
      session("th_dev_a_1", "dev-a", 4, 1, "169.254.50.2", "169.254.50.1", 64512,
              {net("172.20.0.0/16")}),
      session("th_prod_a_1", "prod-a", 9, 1, "169.254.10.2", "169.254.10.1", 64512,
              {net("10.1.0.0/16")}),
      session("th_prod_a_2", "prod-a", 9, 2, "169.254.10.6", "169.254.10.5", 64512,
              {net("10.1.0.0/16")}),
      session("th_shared_1_1", "shared-1", 7, 1, "169.254.30.2", "169.254.30.1", 65010,
              {net("192.168.1.0/24")}),
  };
  spec.sessions[0].segment = "dev";
  spec.sessions[0].export_segments = {"dev", "shared"};
  for (int i : {1, 2}) {
    spec.sessions[i].segment = "prod";
    spec.sessions[i].export_segments = {"prod", "shared"};
    spec.sessions[i].prepend = 2;
    spec.sessions[i].med = 50;
  }
  spec.sessions[3].segment = "shared";
  spec.sessions[3].export_segments = {"dev", "prod", "shared"};
  spec.sessions[3].export_only = std::vector<Ipv4Prefix>{net("10.0.0.0/8"), net("172.16.0.0/12")};
  spec.sessions[3].export_limit = 2;
  spec.statics = {staticSpoke("th_s_prod_c", "prod-c", 2, "prod",
                              {net("10.3.0.0/16"), net("10.33.0.0/16")},
                              {ip("169.254.40.1"), ip("169.254.40.5")})};
  spec.summaries = {net("10.0.0.0/8"), net("172.16.0.0/12")};
  return spec;
}

// The lab spec on hub-a of a pair: two VGW spokes and a site here, plus a static spoke and a
// spoke in another segment that are connected only to hub-b. Segment ids: default 1, dev 2.
// Route tags: vpc-a 1, vpc-b 2, site-1 3, static-c 4 (default), dev-d 5 (dev).
[[maybe_unused]] RoutingSpec pairSpec() {
  RoutingSpec spec = labSpec();
  spec.sessions[0].bfd = true;  // site-1 asks for BFD
  spec.statics = {staticSpoke("th_static_c_static", "static-c", 4, "default", {net("10.4.0.0/16")},
                              {ip("169.254.40.1")})};
  PeerHubSpec peer;
  peer.name = "th_pair";
  peer.hub = "hub-b";
  peer.interface = "th-pair";
  peer.local_address = ip("169.254.253.253");
  peer.neighbor_address = ip("169.254.253.254");
  peer.spokes = {{1, {"vpc-a", "default"}},
                 {2, {"vpc-b", "default"}},
                 {3, {"site-1", "default"}},
                 {4, {"static-c", "default"}},
                 {5, {"dev-d", "dev"}}};
  spec.peer_hub = peer;
  return spec;
}

BirdOptions labOptions() {
  BirdOptions options;
  options.router_id = ip("10.255.0.1");
  options.include_path = "/etc/bird/transit-hub.conf";
  return options;
}

std::string dataPath(const std::string& name) {
  return std::string(TRANSIT_BIRD_DATA_DIR) + "/" + name;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

[[maybe_unused]] void expectGolden(const std::string& name, const std::string& actual) {
  if (std::getenv("TRANSIT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(dataPath(name)) << actual;
  }
  EXPECT_EQ(actual, readFile(dataPath(name))) << "golden " << name;
}

}  // namespace
}  // namespace transit::routing
