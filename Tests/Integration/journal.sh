#!/bin/bash
# A real journald of our own in a private mount namespace (testbed.md §2);
# entries read back with journalctl -o json carry every field; journald stopped and restarted
# mid-run loses nothing. Run as root. Prints "journal: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /var/log/journal && mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
  mkdir -p /run/systemd/journald.conf.d
  printf "[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\nRateLimitIntervalSec=0\n" > /run/systemd/journald.conf.d/test.conf
  exec python3 "'"$here"'/test_journal.py"
'
