#!/usr/bin/env bash
# e2e: transit-hubd's /metrics passes `promtool check metrics`, carries the documented series with
# bounded labels, and a real Prometheus server scrapes it and sees the hub's spoke count.
# Usage: metrics_scrape.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum promtool prometheus

SCRAPE_TIMEOUT=30  # seconds for Prometheus to start and see the hub

make_token admin
write_config "$E2E_TMP/hub.yaml" "$E2E_TMP/state.db" "$TOKEN_HASH"
start_hub "$E2E_TMP/hub.yaml" "$E2E_TMP/hubd.log"
AUTH=(-H "Authorization: Bearer $(head -n 1 "$E2E_TMP/admin.token")")

# Distinctive names: none of them may show up in a label.
ctl spoke add metrics-vpc-alpha --kind vpc --cidr 10.11.0.0/16 --asn 64601 --tunnel 198.51.100.61
expect_rc "spoke add metrics-vpc-alpha" 0
ctl spoke add metrics-vpc-bravo --kind vpc --cidr 10.12.0.0/16 --asn 64602 --tunnel 198.51.100.62
expect_rc "spoke add metrics-vpc-bravo" 0
ctl spoke add metrics-site-charlie --kind site --cidr 192.168.61.0/24 --routing static \
  --tunnel 198.51.100.63
expect_rc "spoke add metrics-site-charlie" 0
ctl spoke add metrics-vpc-overlap --kind vpc --cidr 10.11.1.0/24 --asn 64603 \
  --tunnel 198.51.100.64
expect_rc "spoke add of an overlapping spoke is refused" 1
http GET /v1/spokes/metrics-vpc-alpha "${AUTH[@]}"
expect_eq "GET /v1/spokes/metrics-vpc-alpha" 200 "$STATUS"
http GET /v1/spokes/metrics-no-such-spoke "${AUTH[@]}"
expect_eq "GET of a spoke that does not exist" 404 "$STATUS"
http GET /metrics-no-such-path
expect_eq "GET of an unknown path" 404 "$STATUS"
http GET /v1/hub "${AUTH[@]}"
expect_eq "GET /v1/hub" 200 "$STATUS"
HUB_VPC="$(json_get 'd["spokes"]["vpc"]' <<<"$BODY")"
expect_eq "the hub counts its vpc spokes" 2 "$HUB_VPC"
HUB_VERSION="$(json_get 'd["version"]' <<<"$BODY")"

# ---- the exposition text ---------------------------------------------------------------------

http GET /metrics
expect_eq "GET /metrics without a token" 200 "$STATUS"
METRICS="$BODY"
printf '%s\n' "$METRICS" >"$E2E_TMP/metrics.txt"
run_cmd promtool check metrics <"$E2E_TMP/metrics.txt"
expect_rc "promtool check metrics accepts /metrics" 0
expect_contains "Content-Type is Prometheus text" "$HEADERS" "Content-Type: text/plain"

# metric_value SERIES: the value of the line starting with exactly SERIES (name and labels).
metric_value() {
  awk -v s="$1" 'substr($0, 1, length(s) + 1) == s " " { print $2 }' "$E2E_TMP/metrics.txt"
}
expect_eq 'transit_hub_spokes{kind="vpc"}' "$HUB_VPC" \
  "$(metric_value 'transit_hub_spokes{kind="vpc"}')"
expect_eq 'transit_hub_spokes{kind="site"}' 1 "$(metric_value 'transit_hub_spokes{kind="site"}')"
expect_eq "transit_hub_build_info{version=\"$HUB_VERSION\"}" 1 \
  "$(metric_value "transit_hub_build_info{version=\"$HUB_VERSION\"}")"
expect_eq 'transit_hub_store_writes_total{result="ok"}' 3 \
  "$(metric_value 'transit_hub_store_writes_total{result="ok"}')"
grep -qE '^transit_hub_api_requests_total\{([^}]*,)?route="/v1/spokes/\{name\}"' \
  "$E2E_TMP/metrics.txt" ||
  fail 'transit_hub_api_requests_total has route="/v1/spokes/{name}" (expected a series, got none)'
pass 'transit_hub_api_requests_total has route="/v1/spokes/{name}"'
grep -qE '^transit_hub_api_requests_total\{([^}]*,)?code="404"' "$E2E_TMP/metrics.txt" ||
  fail 'transit_hub_api_requests_total counts the 404s (expected a code="404" series, got none)'
pass 'transit_hub_api_requests_total counts the 404s'
grep -qE '^transit_hub_api_request_duration_seconds_bucket\{' "$E2E_TMP/metrics.txt" ||
  fail "transit_hub_api_request_duration_seconds_bucket is exported (expected a series, got none)"
pass "transit_hub_api_request_duration_seconds_bucket is exported"
# Spoke names belong in the per-tunnel series' spoke label, never in a route label (that must be
# the template, or every spoke would grow the API metrics' cardinality).
expect_not_contains "no spoke name or raw path in a route label" \
  "$(grep -o 'route="[^"]*"' <<<"$METRICS")" "metrics-"
grep -qE '^transit_hub_tunnel_ike_up\{spoke="metrics-vpc-alpha",tunnel="1"\} 0' <<<"$METRICS" ||
  fail "dry-run: transit_hub_tunnel_ike_up of metrics-vpc-alpha is 0 (nothing negotiated)"
pass "dry-run: tunnel series exist and report nothing negotiated"

# ---- a real Prometheus scrape ----------------------------------------------------------------

# start_prometheus: tries random ports below the ephemeral range until one binds; sets PROM_PID,
# PROM_URL.
start_prometheus() {
  local attempt i port ready
  for ((attempt = 1; attempt <= 8; attempt++)); do
    port=$((20000 + RANDOM % 12000))
    rm -rf "$E2E_TMP/tsdb"
    e2e_spawn "$E2E_TMP/prometheus-$attempt.log" prometheus \
      --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/tsdb" \
      --web.listen-address="127.0.0.1:$port"
    PROM_PID=$SPAWNED_PID
    PROM_URL="http://127.0.0.1:$port"
    ready=""
    for ((i = 0; i < SCRAPE_TIMEOUT * 10; i++)); do
      kill -0 "$PROM_PID" 2>/dev/null || break
      # Ready, and ours: the server on that port must report our TSDB path.
      if curl --noproxy '*' -sf -m 2 "$PROM_URL/api/v1/status/flags" 2>/dev/null |
        grep -qF "\"storage.tsdb.path\":\"$E2E_TMP/tsdb\"" &&
        curl --noproxy '*' -sf -m 2 -o /dev/null "$PROM_URL/-/ready" 2>/dev/null; then
        ready=1
        break
      fi
      sleep 0.1
    done
    if [[ -n "$ready" ]]; then
      pass "prometheus started on 127.0.0.1:$port (attempt $attempt)"
      return 0
    fi
    stop_process "$PROM_PID"
    if ! grep -q "address already in use" "$E2E_TMP/prometheus-$attempt.log"; then
      fail "prometheus starts (expected ready within ${SCRAPE_TIMEOUT}s, got log:" \
        "$(e2e_excerpt "$(tail -n 20 "$E2E_TMP/prometheus-$attempt.log")"))"
    fi
    echo "note: port $port is taken; trying another" >&2
  done
  fail "prometheus finds a free port (expected one of 8 random ports free, got none)"
}

# prom_query QUERY: the value of the first sample of an instant query, or "" when none.
prom_query() {
  curl --noproxy '*' -sf -m 5 -G --data-urlencode "query=$1" "$PROM_URL/api/v1/query" 2>/dev/null |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
r = d["data"]["result"] if d.get("status") == "success" else []
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}

cat >"$E2E_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: transit-hub
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$HUB_PORT"]
EOF
run_cmd promtool check config "$E2E_TMP/prometheus.yml"
expect_rc "promtool check config accepts prometheus.yml" 0

start_prometheus
deadline=$((SECONDS + SCRAPE_TIMEOUT))
up=""
while ((SECONDS < deadline)); do
  up="$(prom_query 'up{job="transit-hub"}')"
  [[ "$up" == "1" ]] && break
  sleep 0.2
done
expect_eq "prometheus: up{job=\"transit-hub\"} (within ${SCRAPE_TIMEOUT}s)" 1 "$up"
expect_eq 'prometheus: transit_hub_spokes{kind="vpc"} equals the hub'"'"'s count' "$HUB_VPC" \
  "$(prom_query 'transit_hub_spokes{job="transit-hub",kind="vpc"}')"
expect_eq 'prometheus: transit_hub_build_info' 1 \
  "$(prom_query "transit_hub_build_info{job=\"transit-hub\",version=\"$HUB_VERSION\"}")"

stop_process "$PROM_PID"
stop_process "$HUB_PID"
expect_eq "transit-hubd exit status after SIGTERM" 0 "$STOP_STATUS"

echo "PASS: metrics_scrape"
