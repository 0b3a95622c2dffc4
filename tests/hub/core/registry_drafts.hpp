// Spoke drafts the registry tests create: a vpc spoke with one tunnel on the receiving hub.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peers/model/spoke.hpp"

namespace transit::hub {

inline peers::SpokeDraft vpcDraft(std::string name, std::string cidr, std::string outside) {
  peers::SpokeDraft d;
  d.name = std::move(name);
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.asn = 64512;
  d.tunnels = std::vector<peers::TunnelDraft>{
      peers::TunnelDraft{std::move(outside), std::nullopt, std::nullopt}};
  return d;
}

}  // namespace transit::hub
