// The daemon's readiness checks behind /readyz: "store" (the hub's view of the store is current,
// else "stale since <RFC 3339 UTC>: <why>"; and the store takes writes), "drivers"
// (pluto and BIRD answer, and with a pair the hub could make the link to the other hub) and
// "initial_sync" (the server serves and a first full pass has run).
//
// Owns nothing: the checks read state the registry and the reconciler already keep. Registered
// once by main.cpp before the server starts; evaluated on HTTP threads (never blocking).
#pragma once

#include <atomic>

#include "hub/core/health.hpp"
#include "hub/core/reconciler.hpp"
#include "hub/core/registry.hpp"

namespace transit::hub {

// `registry`, `reconciler` and `serving` must outlive `health`'s evaluations.
void addReadinessChecks(Health& health, const Registry& registry, const Reconciler& reconciler,
                        const std::atomic<bool>& serving);

}  // namespace transit::hub
