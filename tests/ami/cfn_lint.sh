#!/usr/bin/env bash
# ami.cfn_lint (CTest, label static): every CloudFormation template under ami/cloudformation/
# passes cfn-lint (Python cfn-lint, offline) with no output at all, warnings included. Copies of
# the first template with a non-boolean SourceDestCheck and with a misspelt GetAtt attribute must
# be rejected, so a pass means the linter really checked the templates.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
region=eu-west-1
command -v cfn-lint >/dev/null || {
  echo "FAIL: cfn-lint is not installed (Python cfn-lint: pip install cfn-lint)" >&2
  exit 1
}
mapfile -t templates < <(find "$root/ami/cloudformation/" -type f \
  \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) | sort)
((${#templates[@]} > 0)) || { echo "FAIL: no templates under $root/ami/cloudformation" >&2; exit 1; }

status=0
out=$(cfn-lint -r "$region" -- "${templates[@]}" 2>&1) || status=$?
if ((status != 0)) || [[ -n $out ]]; then
  echo "FAIL: cfn-lint (exit $status) on ${templates[*]#"$root/"}:" >&2
  echo "$out" >&2
  exit 1
fi

# Negative checks, both copies in one run.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
first=${templates[0]}
sed '0,/SourceDestCheck: false/s//SourceDestCheck: maybe/' "$first" >"$tmp/bool.yaml"
sed '0,/!GetAtt EniA\.PrimaryPrivateIpAddress/s//!GetAtt EniA.PrimaryPrivateIp/' "$first" \
  >"$tmp/getatt.yaml"
for copy in bool getatt; do
  if cmp -s "$first" "$tmp/$copy.yaml"; then
    echo "FAIL: could not make the $copy copy: ${first#"$root/"} has no line to change" >&2
    exit 1
  fi
done
if out=$(cfn-lint -r "$region" -- "$tmp/bool.yaml" "$tmp/getatt.yaml" 2>&1); then
  echo "FAIL: cfn-lint accepted the broken copies" >&2
  exit 1
fi
expect() { # FILE CODE TEXT: cfn-lint reported CODE (a regex) with TEXT, then FILE:LINE
  grep -E -A1 "^$2 .*$3" <<<"$out" | grep -q "^$tmp/$1:[0-9]" || {
    echo "FAIL: cfn-lint did not report $2 ($3) for the $1 copy:" >&2
    echo "$out" >&2
    exit 1
  }
}
expect bool.yaml E3012 "'maybe' is not of type 'boolean'"
expect getatt.yaml 'E[0-9]{4}' "'PrimaryPrivateIp' is not one of"  # E6101 in Outputs, E1010 elsewhere
echo "ok: cfn-lint clean on ${#templates[@]} template(s); the broken copies are rejected"
