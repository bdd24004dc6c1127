#!/usr/bin/env python3
"""The one QMP client of the tests: the `QMP` class, imported by Tests/RealKernel/harness.py, and a
command line for Tests/Integration/qemu-guest.sh:

qmp.py SOCKET COMMAND [key=value ...] [--wait-event NAME] [--timeout S]
Sends one QMP command (after qmp_capabilities), prints its return value as JSON, and optionally
waits for an event (e.g. DEVICE_DELETED). Exit 1 on a QMP error or a timeout."""
import json
import socket
import sys
import time


class QMP:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("rw")
        self.events = []
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise RuntimeError("QMP closed")
        return json.loads(line)

    def cmd(self, name, **arguments):
        self.file.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
        self.file.flush()
        while True:
            msg = self._read()
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")
            return msg.get("return")

    def wait_event(self, name, timeout):
        self.sock.settimeout(timeout)
        try:
            while not any(e["event"] == name for e in self.events):
                self.events.append(self._read())
        finally:
            self.sock.settimeout(None)
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def main():
    args = sys.argv[1:]
    wait_event, timeout = None, 30.0
    if "--wait-event" in args:
        i = args.index("--wait-event")
        wait_event = args[i + 1]
        del args[i:i + 2]
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    path, command, pairs = args[0], args[1], args[2:]
    arguments = dict(pair.split("=", 1) for pair in pairs)
    deadline = time.time() + timeout
    qmp = None
    try:
        qmp = QMP(path, timeout)
        qmp.sock.settimeout(max(1.0, deadline - time.time()))
        print(json.dumps(qmp.cmd(command, **arguments)))
        if wait_event:
            qmp.wait_event(wait_event, max(1.0, deadline - time.time()))
            print(f"event {wait_event}")
    except (OSError, RuntimeError, socket.timeout) as error:
        print(f"qmp: {error}", file=sys.stderr)
        return 1
    finally:
        if qmp:
            qmp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
