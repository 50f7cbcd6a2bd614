"""Benchmark: the engine's own memory per idle container, dockyard's monitor vs podman's conmon.

Starts N (default 50) idle `sleep` containers in each engine. dockyard's figure is the PSS of its
one monitor process (from /proc/<pid>/smaps_rollup), plus its network agent while that is alive,
divided by N: the containers' own processes are not counted. The figure is taken right after the
last start (the agent, which exits after 2 s idle, is then still there) and again once settled.
podman's is the summed PSS of its conmon processes divided by N. Goal (issue 4): dockyard's
settled per-container figure at most podman's. A missing peer is skipped. Containers run with
`--network none` unless `--network bridge` is given: bridged containers make the monitor start
its network agent (a child holding pyroute2, ~13 MB), counted while it lives. Run as root:

    .venv/bin/python bench/density.py [--containers 50] [--network none|bridge]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PEER, Engine, setup, teardown


def pss_kb(pid: int) -> int:
    """Proportional set size of one process in kB (smaps_rollup, Linux ≥ 4.14)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def monitor_pid(root: Path) -> int:
    """The pid of dockyard's monitor for `root`, asked over its socket."""
    from dockyard.engine.monitor.client import request
    from dockyard.engine.paths import EnginePaths

    return int(request(EnginePaths(root), op="ping")["pid"])


def agent_pids(root: Path) -> list[int]:
    """The monitor's network agent for `root`, if it is running."""
    return [pid for pid, argv in _processes() if b"dockyard.engine.monitor.netagent" in argv
            and str(root).encode() in argv]  # fmt: skip


def _processes() -> list[tuple[int, bytes]]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    found.append((int(entry), f.read().replace(b"\0", b" ")))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def conmon_pids(peer_root: str) -> list[int]:
    """Pids of the conmon processes serving containers of podman's root `peer_root`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if (
            argv
            and os.path.basename(argv[0]) == b"conmon"
            and peer_root.encode() in b" ".join(argv)
        ):
            pids.append(int(entry))
    return pids


def per_container(engine: Engine, base: Path, count: int, network: str) -> tuple[float, int]:
    """kB of the engine's own processes per container, and how many processes that was."""
    for i in range(count):
        engine(
            "run", "-d", "--network", network, "--name", f"idle{i}", engine.image, "sleep", "1000"
        )
    if engine.name == "dockyard":
        pids = [monitor_pid(base / "dockyard"), *agent_pids(base / "dockyard")]
    else:
        pids = conmon_pids(engine.env["PEER_ROOT"])
    total = sum(pss_kb(pid) for pid in pids)
    return total / count, len(pids)


def settled(engine: Engine, base: Path, count: int) -> tuple[float, int]:
    """The same figure 3 s later, when dockyard's idle network agent has exited."""
    time.sleep(3)
    if engine.name == "dockyard":
        pids = [monitor_pid(base / "dockyard"), *agent_pids(base / "dockyard")]
    else:
        pids = conmon_pids(engine.env["PEER_ROOT"])
    return sum(pss_kb(pid) for pid in pids) / count, len(pids)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--network", choices=("none", "bridge"), default="none")
    args = parser.parse_args()
    if not (PEER.exists() and shutil.which("podman")):
        print(f"podman peer missing ({PEER}): dockyard alone", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-density-") as tmp:
        base = Path(tmp)
        engines: list[Engine] = []
        try:
            engines = setup(base)
            figures = {}
            for engine in engines:
                kb, processes = per_container(engine, base, args.containers, args.network)
                what = "monitor+agent" if engine.name == "dockyard" else "conmon"
                print(
                    f"{engine.name:<9} {kb:7.1f} kB PSS per container right after the last start "
                    f"({processes} {what} process(es), {args.containers} idle containers, "
                    f"--network {args.network})"
                )
                kb, processes = settled(engine, base, args.containers)
                figures[engine.name] = kb
                print(f"{engine.name:<9} {kb:7.1f} kB PSS per container settled ({processes})")
                teardown([engine])
            if "podman" in figures:
                ratio = figures["dockyard"] / figures["podman"]
                verdict = "met" if ratio <= 1 else "missed"
                print(f"ratio dockyard/podman {ratio:.2f}x (goal ≤ 1.0x: {verdict})")
        finally:
            teardown(engines)
            subprocess.run(["sync"], check=False)


if __name__ == "__main__":
    main()
