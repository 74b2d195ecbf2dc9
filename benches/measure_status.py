#!/usr/bin/env python3
"""Wall time of `warroom status` as a whole process (start, one poll of every source, print,
exit), for the fleet goal of issue 13 (item 10): under 50 ms.

    python3 benches/measure_status.py [--runs N] [--bin PATH] [-- ARGS...]

Defaults: 30 runs of `target/release/warroom status --env benches/fleet.toml` (after 3 warm-up
runs); prints min, median, 90th percentile and max in milliseconds, and the exit codes seen.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--bin", default=os.path.join(target, "release", "warroom"))
    parser.add_argument("args", nargs="*", default=["status", "--env", "benches/fleet.toml"])
    opts = parser.parse_args()
    cmd = [opts.bin, *opts.args]
    for _ in range(3):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times, codes = [], set()
    for _ in range(opts.runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append((time.perf_counter() - start) * 1000.0)
        codes.add(done.returncode)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    print(
        f"{' '.join(cmd)}: {len(times)} runs, min {times[0]:.1f} ms, "
        f"median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms, max {times[-1]:.1f} ms; "
        f"exit codes {sorted(codes)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
