#!/bin/bash
# The journal forwarding test: the daemon logs to a real journald of our own (as journal.sh, in a
# private mount namespace), systemd-journal-upload sends that journal over HTTP on localhost to
# systemd-journal-remote, and the entries are found on the receiving side with
# journalctl --directory by MESSAGE_ID= and IOMMU_GROUP=. Run as root, with IOMMU_WATCH=<binary>.
# Prints "forward: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/private-journal.sh" "$here/test_forward.py"
