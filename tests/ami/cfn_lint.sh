#!/usr/bin/env bash
# ami.cfn_lint (CTest, label static): every CloudFormation template under ami/cloudformation/
# passes cfn-lint (Python cfn-lint, offline) with no output at all, warnings included. Copies of
# the first template with a non-boolean SourceDestCheck and with a misspelt GetAtt attribute must
# be rejected, so a pass means the linter really checked the templates.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
region=eu-west-1
# The Python cfn-lint these machines carry is a pip install (often pyenv's, which a
# non-interactive shell's PATH may lack); Debian packages none.
cfn_lint=$(command -v cfn-lint || true)
if [[ -z $cfn_lint ]]; then
  for c in "${HOME:-/root}"/.pyenv/shims/cfn-lint "${HOME:-/root}"/.pyenv/versions/*/bin/cfn-lint \
    /root/.pyenv/shims/cfn-lint /root/.pyenv/versions/*/bin/cfn-lint /usr/local/bin/cfn-lint; do
    if [[ -x $c ]]; then cfn_lint=$c; break; fi
  done
fi
[[ -n $cfn_lint ]] || {
  echo "FAIL: cfn-lint is not installed (Python cfn-lint: pip install cfn-lint)" >&2
  exit 1
}
# pyenv's shim needs its root to find the interpreter.
[[ $cfn_lint == */.pyenv/* ]] && export PYENV_ROOT=${cfn_lint%%/.pyenv/*}/.pyenv
cfn-lint() { "$cfn_lint" "$@"; }
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
