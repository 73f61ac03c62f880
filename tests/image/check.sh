# Sourced by the image's shell tests: a scratch folder removed on exit, and check(), which
# prints each result and counts the failures (the test ends with `[ "$failures" -eq 0 ]`).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
check() {   # check DESCRIPTION ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got '$2', want '$3'"; failures=$((failures + 1)); fi
}
