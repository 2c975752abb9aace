#!/usr/bin/env bash
# Runs a command on a file from ../shared/data/real, or skips (exit 77) when that folder is absent,
# except under CI=true, where its absence is a failure.  Usage: on_real_data.sh FILE COMMAND [ARGS...]
file=$1
shift
if [ ! -f "$file" ]; then
  if [ "${CI:-}" = true ]; then
    echo "missing $file (required under CI=true)" >&2
    exit 1
  fi
  echo "skipped: $file is absent" >&2
  exit 77
fi
exec "$@" "$file"
