"""Benchmark: `dockyard-runtime run` of a busybox bundle running `true`, against `runc run`.

Alternates the two (same bundle, same machine state), at least 20 runs each, and prints the
medians and the ratio dockyard/runc. Goal (issue 2): at most 0.8x runc. Run as root:

    .venv/bin/python bench/runtime_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dockyard.runtime.spec_default import default_spec  # noqa: E402
from dockyard.testing.rootfs import make_busybox_rootfs  # noqa: E402


def make_bundle(base: Path) -> Path:
    bundle = base / "bundle"
    make_busybox_rootfs(bundle / "rootfs")
    spec = default_spec(["true"], terminal=False)
    spec["linux"]["cgroupsPath"] = "/dockyard-bench/run"
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


def time_run(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.decode().strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    runtime = str(Path(sys.executable).parent / "dockyard-runtime")
    runc = shutil.which("runc")
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        base = Path(tmp)
        bundle = make_bundle(base)
        peers = {"dockyard-runtime": runtime}
        if runc:
            peers["runc"] = runc
        times: dict[str, list[float]] = {name: [] for name in peers}
        for i in range(args.runs + 1):
            for name, binary in peers.items():
                cmd = [binary, "--root", str(base / name), "run", "--bundle", str(bundle)]
                elapsed = time_run([*cmd, f"bench-{i}"])
                if i:  # the first round warms caches
                    times[name].append(elapsed)
    for name, samples in times.items():
        print(f"{name:18} median {statistics.median(samples) * 1000:7.1f} ms  (n={len(samples)})")
    if "runc" in times:
        ratio = statistics.median(times["dockyard-runtime"]) / statistics.median(times["runc"])
        print(f"ratio dockyard-runtime/runc: {ratio:.2f} (goal <= 0.80)")
    else:
        print("runc not installed: no ratio")
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        leftover = hierarchy / "dockyard-bench"
        if leftover.is_dir():
            leftover.rmdir()


if __name__ == "__main__":
    main()
