# Shared by the shell tests (sourced): counters and checks that print "FAIL ..." and count.
# check NAME EXPECTED_STATUS ACTUAL_STATUS [fixed-string file]...: the status, then each string in its file.
# absent NAME fixed-string file; equal NAME WANT GOT; fail MESSAGE; finish prints the counts and sets the status.
passed=0 failed=0 skipped=0
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() {
  local name=$1 want=$2 got=$3
  shift 3
  [ "$want" = "$got" ] || { fail "$name: exit status $got, wanted $want: $(head -3 err 2>/dev/null)"; return; }
  while [ $# -ge 2 ]; do
    grep -qF -- "$1" "$2" || { fail "$name: '$1' not in $2: $(head -5 "$2")"; return; }
    shift 2
  done
  passed=$((passed + 1))
}
absent() {
  if grep -qF -- "$2" "$3"; then fail "$1: '$2' should not be in $3"; else passed=$((passed + 1)); fi
}
equal() {
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else fail "$1: wanted $2, got $3"; fi
}
finish() {
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" = 0 ]
}
