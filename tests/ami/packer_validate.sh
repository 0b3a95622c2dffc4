#!/usr/bin/env bash
# ami.packer_validate (CTest, label static): ami/packer/transit-hub.pkr.hcl passes `packer
# validate` (offline, no AWS credentials), and a copy without the source AMI owner is rejected,
# so a pass means packer really checked the amazon-ebs source.
# Runs in a temporary copy of the template, so nothing is written to the repository. The file
# provisioners stat their sources at validate time: the copy gets a placeholder .deb, and the
# repository's ami/provision.sh.
# No -only: `-only` takes TYPE.NAME (amazon-ebs.hub); any other name matches nothing and packer
# then validates nothing and exits 0.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
template=$root/ami/packer/transit-hub.pkr.hcl
command -v packer >/dev/null || {
  echo "FAIL: packer is not installed (Debian package packer; ami/install-deps.sh)" >&2
  exit 1
}
[[ -f $template ]] || { echo "FAIL: $template does not exist" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CHECKPOINT_DISABLE=1 PACKER_CACHE_DIR=$tmp/cache
mkdir -p "$tmp/ami/packer"
cp "$template" "$tmp/ami/packer/transit-hub.pkr.hcl"
[[ -f $root/ami/provision.sh ]] || { echo "FAIL: $root/ami/provision.sh does not exist" >&2; exit 1; }
cp "$root/ami/provision.sh" "$tmp/ami/provision.sh"
echo placeholder >"$tmp/transit-hub_0.0.0-test_amd64.deb"
cd "$tmp"
vars=(-var "deb=$tmp/transit-hub_0.0.0-test_amd64.deb" -var version=0.0.0-test)

# The build holds the one source this test means to validate.
inspect=$(packer inspect ami/packer/transit-hub.pkr.hcl)
grep -qx '[[:space:]]*amazon-ebs\.hub' <<<"$inspect" || {
  echo "FAIL: packer inspect does not list the source amazon-ebs.hub:" >&2
  echo "$inspect" >&2
  exit 1
}

if ! out=$(packer validate "${vars[@]}" ami/packer/transit-hub.pkr.hcl 2>&1); then
  echo "FAIL: packer validate rejected ami/packer/transit-hub.pkr.hcl:" >&2
  echo "$out" >&2
  exit 1
fi

# Negative check: without `owners` the amazon-ebs source must be rejected.
grep -v '^[[:space:]]*owners[[:space:]]*=' ami/packer/transit-hub.pkr.hcl >ami/packer/no-owner.pkr.hcl
if cmp -s ami/packer/transit-hub.pkr.hcl ami/packer/no-owner.pkr.hcl; then
  echo "FAIL: the template has no 'owners =' line to remove" >&2
  exit 1
fi
if out=$(packer validate "${vars[@]}" ami/packer/no-owner.pkr.hcl 2>&1); then
  echo "FAIL: packer validate accepted a source AMI filter without an owner" >&2
  exit 1
fi
grep -q 'your source AMI filter must declare an owner' <<<"$out" || {
  echo "FAIL: packer rejected the copy without an owner, but not for the owner:" >&2
  echo "$out" >&2
  exit 1
}
echo "ok: ami/packer/transit-hub.pkr.hcl validates (amazon-ebs.hub); a copy without owners is rejected"
