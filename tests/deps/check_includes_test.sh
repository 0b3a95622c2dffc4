#!/usr/bin/env bash
# The include-rule check itself: a tree with a crossing fails and names it; the same tree without
# it passes. (CTest: deps.include_rule_check)
set -euo pipefail
checker=$(dirname "${BASH_SOURCE[0]}")/check_includes.py
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{peers/model,routing/bird,routing/base,hub/core}
echo '#include "routing/base/prefix.hpp"' >"$tree/peers/model/spoke.hpp"
echo '#include "peers/model/spoke.hpp"' >"$tree/hub/core/registry.hpp"
touch "$tree/routing/base/prefix.hpp" "$tree/routing/bird/bird_driver.hpp"
python3 "$checker" "$tree"
echo '#include "routing/bird/bird_driver.hpp"' >>"$tree/peers/model/spoke.hpp"
if out=$(python3 "$checker" "$tree" 2>&1); then
  echo "FAIL: peers/model including routing/bird passed the check" >&2
  exit 1
fi
grep -q 'peers/model/spoke.hpp:2: peers/model may not include routing/bird/bird_driver.hpp' <<<"$out" || {
  echo "FAIL: the crossing was not named: $out" >&2
  exit 1
}
echo '#include "routing/bird/bird_driver.hpp"' >"$tree/hub/core/registry.hpp"
python3 "$checker" "$tree" >/dev/null && { echo "FAIL: hub/core including a driver passed" >&2; exit 1; }
echo "ok"
