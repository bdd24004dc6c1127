#!/usr/bin/env python3
"""Minimal QMP client for Tests/Integration/qemu-guest.sh.

qmp.py SOCKET COMMAND [key=value ...] [--wait-event NAME] [--timeout S]
Sends one QMP command (after qmp_capabilities), prints its return value as JSON, and optionally
waits for an event (e.g. DEVICE_DELETED). Exit 1 on a QMP error or a timeout."""
import json
import socket
import sys
import time


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
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            sock.connect(path)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    sock.settimeout(max(1.0, deadline - time.time()))
    stream = sock.makefile("rw")
    events = []

    def read():
        line = stream.readline()
        if not line:
            raise RuntimeError("QMP socket closed")
        return json.loads(line)

    def execute(name, **kwargs):
        stream.write(json.dumps({"execute": name, "arguments": kwargs}) + "\n")
        stream.flush()
        while True:
            message = read()
            if "event" in message:
                events.append(message["event"])
            elif "error" in message:
                raise RuntimeError(f"QMP {name}: {message['error']}")
            else:
                return message.get("return")

    try:
        read()  # greeting
        execute("qmp_capabilities")
        print(json.dumps(execute(command, **arguments)))
        while wait_event and wait_event not in events:
            message = read()
            if "event" in message:
                events.append(message["event"])
        if wait_event:
            print(f"event {wait_event}")
    except (OSError, RuntimeError, socket.timeout) as error:
        print(f"qmp: {error}", file=sys.stderr)
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
