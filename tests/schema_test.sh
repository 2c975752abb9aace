#!/usr/bin/env bash
# Runs tests/schema_test.py with Debian's python3-jsonschema (installed by scripts/test.sh); skipped
# when it is missing, except under CI=true.
# Usage: schema_test.sh JUDGEBIAS_BINARY SOURCE_DIR
set -u
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
  if [ "${CI:-}" = true ]; then echo "FAIL: python3-jsonschema is not installed (scripts/test.sh installs it)"; exit 1; fi
  echo "skip: python3-jsonschema is not installed"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$2/tests/schema_test.py" "$1" "$2" "$work"
