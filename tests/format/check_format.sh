#!/usr/bin/env bash
# format-check (CTest, label static): every C++ source in the repository is formatted as
# .clang-format says. Prints the files that are not and how to fix them; exit 1 when any is not.
# Fix: clang-format -i FILE... (formatting-only changes go in their own commit).
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"
command -v clang-format >/dev/null || { echo "format-check: clang-format is not installed" >&2; exit 1; }
mapfile -t files < <(find routing peers hub http tests -name build -prune -o \
  \( -name '*.cpp' -o -name '*.hpp' \) -type f -print | sort)
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if ((${#bad[@]} > 0)); then
  printf 'format-check: not formatted as .clang-format says (%d of %d files):\n' \
    "${#bad[@]}" "${#files[@]}" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files formatted"
