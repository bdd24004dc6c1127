#!/bin/bash
# Runs a Python test in a private mount namespace with a /run and /var/log/journal of its own, and a
# journald.conf.d for a test journald (volatile, no kmsg, no rate limit) the test starts itself
# (testbed.md §2). Used by journal.sh and forward.sh. Usage: private-journal.sh TEST.py
set -euo pipefail
test=$(realpath "${1:?usage: private-journal.sh TEST.py}")
# shellcheck disable=SC2016 # $0 is expanded by the inner shell: the test, passed as its argument
exec unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /var/log/journal && mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
  mkdir -p /run/systemd/journald.conf.d
  printf "[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\nRateLimitIntervalSec=0\n" > /run/systemd/journald.conf.d/test.conf
  exec python3 "$0"
' "$test"
