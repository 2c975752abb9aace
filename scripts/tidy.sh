#!/usr/bin/env bash
# clang-tidy, with the checks of .clang-tidy and every warning an error, on the C++ sources a change
# touched in src/, examples/, bench/, tests/ and python/src/ (for a changed header, one source that includes it).
# The change is BASE..HEAD. Without BASE, it starts at the commit named in .ci/tidy-base: the state
# the current round of work started from, which whoever starts a round sets to the landed HEAD, so that
# CI checks that round's sources (if it is not an ancestor of HEAD, the change is HEAD's last commit).
# Needs the build's compile_commands.json (the default preset writes it).
# Usage: scripts/tidy.sh [BUILD_DIR] [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
base=${2:-}
[ -f "$build/compile_commands.json" ] || { echo "tidy.sh: no $build/compile_commands.json (cmake --preset default)" >&2; exit 1; }
command -v clang-tidy >/dev/null || { echo "tidy.sh: clang-tidy is not installed (scripts/deps.sh clang-tidy)" >&2; exit 1; }
git rev-parse -q --verify HEAD >/dev/null 2>&1 || { echo "clang-tidy: not a git checkout, no change to check"; exit 0; }
if [ -z "$base" ] && [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  # A shallow clone may lack the base: fetch the history if the origin can be reached.
  timeout 120 git fetch -q --unshallow 2>/dev/null || true
fi
if [ -z "$base" ]; then
  base=$(tr -d '[:space:]' <.ci/tidy-base 2>/dev/null || true)
  if [ -z "$base" ] || ! git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
    base=$(git rev-parse -q --verify HEAD~1 || true)
    if [ -z "$base" ]; then
      echo "clang-tidy: NOT RUN: HEAD has no parent here (a shallow clone) and .ci/tidy-base's commit is absent" >&2
      exit 0
    fi
  fi
fi
changed=$(git diff --name-only --diff-filter=d "$base" HEAD -- src include examples bench tests python/src)
files=()
for f in $changed; do
  case $f in
    *.cpp) files+=("$f") ;;
    *.hpp)  # one source that includes it is enough to check it: the one of its name, else the first
      stem=$(basename "$f" .hpp)
      c=$(find src examples -name "$stem.cpp" | head -1)
      [ -n "$c" ] || c=$(grep -rlF --include='*.cpp' "$(basename "$f")\"" src examples tests bench 2>/dev/null | sort | head -1 || true)
      [ -z "$c" ] || files+=("$c") ;;
  esac
done
# Only sources the build compiles (the fuzz targets and the package consumer are not in it).
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u | while read -r f; do
  [ -n "$f" ] && grep -qF "\"file\": \"$(pwd -P)/$f\"" "$build/compile_commands.json" && echo "$f"; done)
if [ ${#files[@]} -eq 0 ]; then
  echo "clang-tidy: no C++ source changed since $(git rev-parse --short "$base")"
  exit 0
fi
echo "clang-tidy: ${#files[@]} source(s) changed since $(git rev-parse --short "$base")"
log=$(mktemp)
db=$(mktemp -d)
trap 'rm -rf "$log" "$db"' EXIT
# The build's precompiled headers are GCC's, which clang cannot read: the sources include what they
# need themselves, so the compile commands go to clang without them.
sed -E 's/ -Winvalid-pch//g; s/ -include [^ ]*cmake_pch\.hxx//g' "$build/compile_commands.json" >"$db/compile_commands.json"
if ! printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$db" --quiet \
    --warnings-as-errors='*' >"$log" 2>&1; then
  grep -v "warnings generated\|^Suppressed\|^Use -header-filter\|NOLINT" "$log" >&2 || true
  echo "clang-tidy: failed (the warnings above)" >&2
  exit 1
fi
echo "clang-tidy: clean"
