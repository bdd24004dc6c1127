# Sourced by guest.sh and qemu-guest.sh on the host and, installed into the guest by qemu-guest.sh,
# by qemu-guest-checks.sh inside the QEMU guest: the one check helper of the shell tests.
#
# check DESCRIPTION COMMAND...: runs COMMAND with its output discarded, counts it in passed or
# failed, appends "  ok   DESCRIPTION" or "  FAIL DESCRIPTION" to the array check_lines, and prints
# that line after $CHECK_PREFIX (empty unless the sourcing script sets it).
passed=0 failed=0 check_lines=()
check() {
  local description=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); check_lines+=("  ok   $description")
  else failed=$((failed + 1)); check_lines+=("  FAIL $description"); fi
  echo "${CHECK_PREFIX:-}${check_lines[-1]}"
}
