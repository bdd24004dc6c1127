#!/bin/bash
# A real journald of our own in a private mount namespace (testbed.md §2);
# entries read back with journalctl -o json carry every field; journald stopped and restarted
# mid-run loses nothing. Run as root. Prints "journal: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/private-journal.sh" "$here/test_journal.py"
