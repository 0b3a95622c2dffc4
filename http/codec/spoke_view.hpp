// Spoke view: a spoke and its status in the API's JSON form (GET /v1/spokes, /v1/spokes/{name},
// the bodies of writes), and the tunnel/BGP/daemon parts GET /v1/tunnels shares.
//
// Pure functions over a spoke and a StatusView; any HTTP thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "http/codec/status_view.hpp"
#include "hub/core/reconciler.hpp"
#include "peers/model/spoke.hpp"

namespace transit::http {

bool runsBgp(const peers::Spoke& spoke);

// A tunnel's BGP session; a session the status lacks yet reads as down with no routes.
boost::json::object bgpJson(const hub::SessionStatus* session);

// Adds a tunnel's status fields to `out` (which already holds its identity). A tunnel the status
// lacks (not planned yet) reads as pending with nothing observed.
void addTunnelStatus(boost::json::object& out, const hub::TunnelStatus* tunnel,
                     boost::json::value bgp, const StatusView& view);

// The status fields of another hub's tunnel, which this hub neither runs nor observes: "local"
// false, "state" "remote", every observed field null.
void addRemoteTunnelStatus(boost::json::object& out);

// The "status" of a spoke in the API form: each tunnel with its "hub"; this hub's with their
// status ("local": true), the other hub's as remote.
boost::json::object spokeStatusJson(const peers::Spoke& spoke, const StatusView& view);

// The spoke as the API shows it, with its "status".
boost::json::object spokeJson(const peers::Spoke& spoke, const StatusView& view);

// {"up", "error"} of pluto or BIRD.
boost::json::object daemonJson(const hub::DaemonStatus& daemon);

}  // namespace transit::http
