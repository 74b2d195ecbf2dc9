#!/usr/bin/env python3
"""Measured runs of the real console (not a criterion bench: these are whole-process figures).

  python3 benches/measure_console.py [--binary target/release/warroom] [--idle-secs 60] [--runs 10]
                                    [--no-launch] [-- WARROOM ARGS...]

Prints, for the console on the built-in simulator in a pseudo-terminal (120x40):
  - launch to first full frame: wall time from exec until all three panes show data (a replica
    row, a backup row, a region verdict);
  - idle CPU over --idle-secs seconds (utime+stime from /proc, as % of one core);
  - peak RSS (VmHWM) at the end of the idle run.
Standard library only; Linux only (/proc).
"""
import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

TITLES = (b"Replica lag", b"Backups", b"Regions")
# A full frame has data in every pane, not just titles: a replica row, a backup row, a verdict.
FULL = TITLES + (b"dr-replica", b"daily-dump", b"HEALTHY")


def spawn(binary, args, cols=120, rows=40):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["XDG_STATE_HOME"] = "/tmp/warroom-measure-state"
        os.execv(binary, [binary, *args])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def drain(fd, until, want=None):
    """Reads output until `until` (monotonic) or until every bytes in `want` has been seen."""
    seen = b""
    while time.monotonic() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if want and all(w in seen for w in want):
                return seen, True
    return seen, False


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def stop(pid, fd):
    os.kill(pid, signal.SIGTERM)
    drain(fd, time.monotonic() + 1.0)
    os.waitpid(pid, 0)
    os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/warroom")
    ap.add_argument("--idle-secs", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-launch", action="store_true", help="skip the launch-time runs")
    ap.add_argument("args", nargs="*", help="arguments for warroom (after --)")
    a = ap.parse_args()
    want = FULL if not a.args else TITLES

    launches = []
    for _ in range(0 if a.no_launch else a.runs):
        t0 = time.monotonic()
        pid, fd = spawn(a.binary, a.args)
        _, ok = drain(fd, t0 + 10.0, want)
        t1 = time.monotonic()
        stop(pid, fd)
        if not ok:
            sys.exit("the console did not draw its panes within 10 s")
        launches.append((t1 - t0) * 1000.0)
    launches.sort()
    if launches:
        print(f"launch to first full frame: median {launches[len(launches) // 2]:.1f} ms, "
              f"min {launches[0]:.1f} ms, max {launches[-1]:.1f} ms ({a.runs} runs)")

    pid, fd = spawn(a.binary, a.args)
    drain(fd, time.monotonic() + 10.0, TITLES)
    hz = os.sysconf("SC_CLK_TCK")
    before = cpu_ticks(pid)
    t0 = time.monotonic()
    drain(fd, t0 + a.idle_secs)  # keep reading so the pty never blocks the console
    elapsed = time.monotonic() - t0
    used = (cpu_ticks(pid) - before) / hz
    hwm = vm_hwm_kib(pid)
    stop(pid, fd)
    print(f"idle CPU over {elapsed:.0f} s: {100.0 * used / elapsed:.2f}% of one core "
          f"({used:.2f} s CPU)")
    print(f"peak RSS (VmHWM): {hwm / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
