#!/usr/bin/env bash
# e2e: `transit-hubd --bootstrap USER_DATA --config OUT`, the appliance's first boot, against a
# fake EC2 instance metadata service (IMDSv2, python3 on 127.0.0.1, pointed at with the test-only
# TRANSIT_HUB_IMDS_ENDPOINT). A good user data (no addresses, `api.tls: self-signed`) leaves an OUT
# that --check accepts and a hub that serves HTTPS with the certificate; a re-run refuses to
# overwrite OUT; bad user data exits 2 with one line naming the file and the key, and a metadata
# 404 exits 1, both leaving the directory as it was.
# Usage: bootstrap.sh PATH/transit-hubd PATH/transit-hubctl
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
require_tools curl openssl python3 sha256sum

# ---- the fake instance metadata: a token, then each item that has a file in $E2E_TMP/imds ------
mkdir "$E2E_TMP/imds"
echo 198.51.100.7 >"$E2E_TMP/imds/public-ipv4"
echo 10.0.3.7 >"$E2E_TMP/imds/local-ipv4"
cat >"$E2E_TMP/imds.py" <<'EOF'
import http.server, os, sys
TOKEN = "e2e-imds-token-0123456789"
ITEMS = sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body=""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
    def do_PUT(self):
        ok = self.path == "/latest/api/token" and \
            self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") == "300"
        self.answer(200, TOKEN) if ok else self.answer(400)
    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.answer(401)
        item = os.path.join(ITEMS, self.path.removeprefix("/latest/meta-data/"))
        if not self.path.startswith("/latest/meta-data/") or not os.path.isfile(item):
            return self.answer(404)
        with open(item) as f:
            self.answer(200, f.read())
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
EOF
e2e_spawn "$E2E_TMP/imds.log" python3 "$E2E_TMP/imds.py" "$E2E_TMP/imds.port" "$E2E_TMP/imds"
for ((i = 0; i < E2E_READY_TIMEOUT * 20; i++)); do
  [[ -s "$E2E_TMP/imds.port" ]] && break
  sleep 0.05
done
[[ -s "$E2E_TMP/imds.port" ]] || fail "the fake metadata service starts (expected a port," \
  "got log: $(e2e_excerpt "$(cat "$E2E_TMP/imds.log")"))"
export TRANSIT_HUB_IMDS_ENDPOINT="127.0.0.1:$(cat "$E2E_TMP/imds.port")"

make_token admin

# user_data DIR: DIR/user-data.yaml without hub.public_ip and hub.local_ip, api.tls self-signed.
user_data() {
  mkdir -p "$1"
  write_config "$1/user-data.yaml" "$1/state.db" "$TOKEN_HASH"
  sed -i -e '/^  public_ip: /d' -e '/^  local_ip: /d' \
    -e 's|^  threads: 2$|  threads: 2\n  tls: self-signed|' "$1/user-data.yaml"
  grep -q '^  tls: self-signed$' "$1/user-data.yaml" || fail "fixture $1 has api.tls self-signed"
}

# listing DIR: every entry under DIR with its mode and size.
listing() { find "$1" -printf '%P %m %s\n' | sort; }

# ---- a good user data --------------------------------------------------------------------------
GOOD="$E2E_TMP/good"
user_data "$GOOD"
run_cmd "$HUBD" --bootstrap "$GOOD/user-data.yaml" --config "$GOOD/hub.yaml"
expect_rc "--bootstrap on a good user data exits 0" 0
expect_eq "it says what it wrote" "transit-hubd: bootstrap: wrote $GOOD/hub.yaml (hub hub-a,\
 public_ip 198.51.100.7, local_ip 10.0.3.7, both from instance metadata, self-signed certificate\
 $GOOD/tls/cert.pem (new))" "$OUT"
expect_eq "nothing on stderr" "" "$ERR"
expect_eq "hub.yaml is private" 600 "$(stat -c %a "$GOOD/hub.yaml")"
expect_eq "the key is private" 600 "$(stat -c %a "$GOOD/tls/key.pem")"
expect_eq "the certificate is readable" 644 "$(stat -c %a "$GOOD/tls/cert.pem")"
expect_eq "the tls directory is private" 700 "$(stat -c %a "$GOOD/tls")"
expect_contains "the certificate names both addresses" \
  "$(openssl x509 -in "$GOOD/tls/cert.pem" -noout -ext subjectAltName)" \
  "IP Address:198.51.100.7, IP Address:10.0.3.7"
expect_contains "the certificate is the hub's" \
  "$(openssl x509 -in "$GOOD/tls/cert.pem" -noout -subject)" "CN = hub-a"
expect_eq "the key is the certificate's" \
  "$(openssl x509 -in "$GOOD/tls/cert.pem" -noout -pubkey)" \
  "$(openssl pkey -in "$GOOD/tls/key.pem" -pubout)"
run_cmd "$HUBD" --check --config "$GOOD/hub.yaml"
expect_rc "--check accepts the written configuration" 0
expect_contains "with the metadata's addresses" "$(cat "$GOOD/hub.yaml")" "public_ip: 198.51.100.7"
[[ "$(cat "$GOOD/hub.yaml" "$E2E_TMP/all-output.log")" != *e2e-imds-token* ]] ||
  fail "the metadata token is written nowhere (expected no token, got one)"
pass "the metadata token is written nowhere"

# The hub serves HTTPS with the self-signed certificate, verified for the local address.
e2e_spawn "$E2E_TMP/hub.log" "$HUBD" --config "$GOOD/hub.yaml"
HUB_PID=$SPAWNED_PID
wait_hub_port "$HUB_PID" "$E2E_TMP/hub.log" https
PORT=$HUB_PORT
CODE=""
for ((i = 0; i < E2E_READY_TIMEOUT * 20; i++)); do
  CODE="$(curl --noproxy '*' -s -m 2 -o /dev/null -w '%{http_code}' --cacert "$GOOD/tls/cert.pem" \
    --connect-to "10.0.3.7:$PORT:127.0.0.1:$PORT" "https://10.0.3.7:$PORT/healthz" || true)"
  [[ "$CODE" == 200 ]] && break
  sleep 0.05
done
expect_eq "the hub serves HTTPS with the certificate (verified for 10.0.3.7)" 200 "$CODE"
stop_process "$HUB_PID"

# A re-run never overwrites.
BEFORE="$(sha256sum "$GOOD/hub.yaml")"
run_cmd "$HUBD" --bootstrap "$GOOD/user-data.yaml" --config "$GOOD/hub.yaml"
expect_rc "a re-run exits 2" 2
expect_eq "it says why" "transit-hubd: bootstrap: $GOOD/hub.yaml already exists: refusing to\
 overwrite a configuration (bootstrap writes the first one only; edit it, or remove it to\
 bootstrap again)" "$ERR"
expect_eq "hub.yaml is unchanged" "$BEFORE" "$(sha256sum "$GOOD/hub.yaml")"

# Removed, it is written again with the same pair.
CERT="$(sha256sum "$GOOD/tls/cert.pem")"
rm "$GOOD/hub.yaml"
run_cmd "$HUBD" --bootstrap "$GOOD/user-data.yaml" --config "$GOOD/hub.yaml"
expect_rc "a re-run after removing hub.yaml exits 0" 0
expect_contains "and reuses the pair" "$OUT" "self-signed certificate $GOOD/tls/cert.pem (reused)"
expect_eq "the certificate is the same" "$CERT" "$(sha256sum "$GOOD/tls/cert.pem")"

# ---- bad user data: exit 2, one line naming the file and the key, nothing written -------------
# expect_refused NAME RC NEEDLE: bootstraps $E2E_TMP/NAME/user-data.yaml into hub.yaml beside it.
expect_refused() {
  local dir="$E2E_TMP/$1" before
  before="$(listing "$dir")"
  run_cmd "$HUBD" --bootstrap "$dir/user-data.yaml" --config "$dir/hub.yaml"
  expect_rc "$1: --bootstrap exits $2" "$2"
  expect_contains "$1: the message says why" "$ERR" "$3"
  expect_eq "$1: one line on stderr" 1 "$(wc -l <<<"$ERR")"
  expect_eq "$1: nothing on stdout" "" "$OUT"
  expect_eq "$1: the directory is as it was (no hub.yaml, no tls/)" "$before" "$(listing "$dir")"
}

user_data "$E2E_TMP/bad-asn"
sed -i 's/^  asn: 65000$/  asn: 0/' "$E2E_TMP/bad-asn/user-data.yaml"
expect_refused bad-asn 2 "transit-hubd: bootstrap: $E2E_TMP/bad-asn/user-data.yaml: hub.asn: "

user_data "$E2E_TMP/unknown-key"
sed -i 's/^  name: hub-a$/  name: hub-a\n  nmae: x/' "$E2E_TMP/unknown-key/user-data.yaml"
expect_refused unknown-key 2 \
  "transit-hubd: bootstrap: $E2E_TMP/unknown-key/user-data.yaml: hub.nmae: is not a known key"

user_data "$E2E_TMP/twice"
printf 'log:\n  level: warn\n' >>"$E2E_TMP/twice/user-data.yaml"
expect_refused twice 2 \
  "transit-hubd: bootstrap: $E2E_TMP/twice/user-data.yaml: log: is given more than once"

mkdir "$E2E_TMP/not-a-map"
printf -- '- hub\n' >"$E2E_TMP/not-a-map/user-data.yaml"
expect_refused not-a-map 2 "the top level must be a map of sections"

mkdir "$E2E_TMP/empty"
: >"$E2E_TMP/empty/user-data.yaml"
expect_refused empty 2 "the user data is empty"

mkdir "$E2E_TMP/missing"
expect_refused missing 2 "cannot read $E2E_TMP/missing/user-data.yaml: No such file or directory"

# The instance has no public address: exit 1, the reason and the fix.
rm "$E2E_TMP/imds/public-ipv4"
user_data "$E2E_TMP/no-public"
expect_refused no-public 1 "transit-hubd: bootstrap: instance metadata: GET\
 /latest/meta-data/public-ipv4: 404 (the instance has no public IPv4 address: give hub.public_ip\
 in the user data)"

# --bootstrap goes with neither --check nor --migrate-store.
run_cmd "$HUBD" --bootstrap "$GOOD/user-data.yaml" --check --config "$E2E_TMP/x.yaml"
[[ "$RC" != 0 && ! -e "$E2E_TMP/x.yaml" ]] ||
  fail "--bootstrap with --check is refused (expected a non-zero exit and no file, got $RC)"
pass "--bootstrap with --check is refused (exit $RC)"
run_cmd "$HUBD" --bootstrap "$GOOD/user-data.yaml" --migrate-store --from-sqlite x.db \
  --config "$E2E_TMP/x.yaml"
[[ "$RC" != 0 && ! -e "$E2E_TMP/x.yaml" ]] ||
  fail "--bootstrap with --migrate-store is refused (expected a non-zero exit and no file, got $RC)"
pass "--bootstrap with --migrate-store is refused (exit $RC)"

echo "PASS: bootstrap"
