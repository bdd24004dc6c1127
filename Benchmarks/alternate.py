#!/usr/bin/env python3
"""Time commands in alternating rounds and take medians; record them in a doc.

    alternate.py time --warmup W --runs R [--runs-of NAME=N] [--ok-status NAME=0,1]
                      --json OUT NAME=COMMAND...
    alternate.py record --doc docs/performance.md --json OUT --row-prefix '...' --command CMD

`time` spawns each COMMAND (split like a shell would, but run without one,
stdout to /dev/null) W times to warm caches, then in each of R rounds once
per command, so drift of the machine hits all commands alike. A command with
--runs-of NAME=N runs in only N of the rounds, spread evenly. Wall time is
fork-to-reap; user, system and max RSS come from wait4's rusage.
"""
import argparse
import json
import os
import shlex
import statistics
import sys
import time


def spawn(argv):
    """Run argv once; return (wall seconds, rusage, exit status)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 1)]
        start = time.perf_counter_ns()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = (time.perf_counter_ns() - start) / 1e9
    finally:
        os.close(devnull)
    return wall, usage, os.waitstatus_to_exitcode(status)


def time_commands(args):
    commands = []
    for spec in args.commands:
        name, sep, cmd = spec.partition("=")
        if not sep:
            sys.exit("alternate.py: expected NAME=COMMAND, got %r" % spec)
        commands.append((name, shlex.split(cmd)))
    runs_of = dict(kv.split("=", 1) for kv in args.runs_of)
    ok = {name: {int(s) for s in v.split(",")}
          for name, v in (kv.split("=", 1) for kv in args.ok_status)}
    plan = {name: min(args.runs, int(runs_of.get(name, args.runs))) for name, _ in commands}

    def run(name, argv):
        wall, usage, code = spawn(argv)
        if code not in ok.get(name, {0}):
            sys.exit("alternate.py: %s exited %d: %s" % (name, code, shlex.join(argv)))
        return wall, usage

    # Commands on every round warm the caches; one that runs in only a few
    # rounds (the shell loop, minutes a run) reads the same files, already hot.
    for name, argv in commands:
        for _ in range(args.warmup if plan[name] == args.runs else 0):
            run(name, argv)

    load_start = os.getloadavg()[0]
    samples = {name: [] for name, _ in commands}
    for i in range(args.runs):
        for name, argv in commands:
            n = plan[name]
            # Spread n runs over the rounds: round i runs it when the
            # floor of (i+1)*n/R steps up.
            if (i + 1) * n // args.runs == i * n // args.runs:
                continue
            wall, usage = run(name, argv)
            samples[name].append((wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss))
            print("round %2d  %-6s %9.4f s" % (i + 1, name, wall), file=sys.stderr)

    result = {}
    for name, argv in commands:
        s = samples[name]
        walls = [x[0] for x in s]
        result[name] = {
            "command": shlex.join(argv),
            "runs": len(s),
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "median_cpu_s": statistics.median(x[1] + x[2] for x in s),
            "median_user_s": statistics.median(x[1] for x in s),
            "median_sys_s": statistics.median(x[2] for x in s),
            "max_rss_kib": max(x[3] for x in s),
        }
    with open(args.json, "w") as f:
        json.dump({"load_average_1min": [load_start, os.getloadavg()[0]], "commands": result},
                  f, indent=2)
    for name, r in result.items():
        print("%-6s median %9.4f s  (min %.4f, max %.4f, n=%d; cpu %.4f = user %.4f + sys %.4f, "
              "max RSS %d KiB)" % (name, r["median_s"], r["min_s"], r["max_s"], r["runs"],
                                   r["median_cpu_s"], r["median_user_s"], r["median_sys_s"],
                                   r["max_rss_kib"]))


BEGIN, END = "<!-- bench:rows -->", "<!-- /bench:rows -->"


def record(args):
    """Append one table row between the markers of the doc."""
    with open(args.json) as f:
        session = json.load(f)
    r = session["commands"]

    def ms(name, key="median_s"):
        return "%.0f" % (r[name][key] * 1000) if name in r else "–"

    def ratio(a, b, key="median_s"):
        if a in r and b in r:
            return "%.2f×" % (r[a][key] / r[b][key])
        return "–"

    cells = [args.row_prefix, "%.1f–%.1f" % tuple(session["load_average_1min"]),
             ms("floor"), ms("scan"), ms("shell"),
             ratio("scan", "floor"), ratio("shell", "scan"),
             "%s / %s" % (ms("floor", "median_cpu_s"), ms("scan", "median_cpu_s")),
             ratio("scan", "floor", "median_cpu_s"),
             "/".join(str(r[n]["runs"]) if n in r else "–" for n in ("floor", "scan", "shell")),
             "`%s`" % args.command]
    row = "| " + " | ".join(cells) + " |"
    with open(args.doc) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit("alternate.py: %s has no %s … %s block" % (args.doc, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    rows, tail = rest.split(END, 1)
    rows = rows.rstrip("\n") + "\n" + row + "\n"
    with open(args.doc, "w") as f:
        f.write(head + BEGIN + rows + END + tail)
    print(row)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("time")
    t.add_argument("--warmup", type=int, default=3)
    t.add_argument("--runs", type=int, default=15)
    t.add_argument("--runs-of", action="append", default=[], metavar="NAME=N")
    t.add_argument("--ok-status", action="append", default=[], metavar="NAME=CODES")
    t.add_argument("--json", required=True)
    t.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    r = sub.add_parser("record")
    r.add_argument("--doc", required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--row-prefix", required=True,
                   help="the first cells of the row: date | machine | tree")
    r.add_argument("--command", required=True, help="the command that made the row")
    a = p.parse_args()
    time_commands(a) if a.what == "time" else record(a)


if __name__ == "__main__":
    main()
