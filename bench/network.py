"""Benchmark: the cost of networking, and throughput through a published port (issue 5).

1. `run --rm busybox true` on the default bridge vs `--network none`, for dockyard and for
   podman (the `podman-peer` wrapper), alternating, >= 20 runs each: the networking cost is the
   difference of medians; goal: dockyard's cost <= 0.5x podman's.
2. Requests per second through a published port to busybox httpd (a bounded Python load loop on
   127.0.0.1, same duration for both); goal: >= podman's.

Run as root:  .venv/bin/python bench/network.py [--runs 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DOCKYARD = str(Path(sys.executable).parent / "dockyard")
PODMAN_PEER = "/work/shared/peers/podman-peer"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(port: int, seconds: float) -> float:
    """Requests per second of sequential keep-alive-less GETs for `seconds`."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # wait for the server
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        conn.getresponse().read()
        conn.close()
        count += 1
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dockyard-bench-net-"))
    root = tmp / "root"
    dy = [DOCKYARD, "--root", str(root)]
    subprocess.run([*dy, "image", "bootstrap", "busybox"], check=True, capture_output=True)
    peers = {"dockyard": dy}
    podman = os.path.exists(PODMAN_PEER) and shutil.which("podman")
    env_podman = dict(os.environ, PEER_ROOT=str(tmp / "podman"))
    if podman:
        tar = tmp / "busybox.tar"
        subprocess.run([*dy, "save", "-o", str(tar), "busybox"], check=True)
        subprocess.run(
            [PODMAN_PEER, "load", "-i", str(tar)], check=True, env=env_podman, capture_output=True
        )
        peers["podman"] = [PODMAN_PEER]
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for i in range(args.runs + 1):
            for name, base in peers.items():
                for mode in ("bridge", "none"):
                    net = [] if mode == "bridge" else ["--network", "none"]
                    env = env_podman if name == "podman" else None
                    start = time.perf_counter()
                    subprocess.run(
                        [*base, "run", "--rm", *net, "busybox", "true"],
                        check=True,
                        capture_output=True,
                        env=env,
                    )
                    if i:
                        times.setdefault((name, mode), []).append(time.perf_counter() - start)
        cost = {}
        for name in peers:
            bridge = statistics.median(times[(name, "bridge")])
            none = statistics.median(times[(name, "none")])
            cost[name] = bridge - none
            print(
                f"{name:9} bridge {bridge * 1000:7.1f} ms   none {none * 1000:7.1f} ms   "
                f"networking costs {cost[name] * 1000:6.1f} ms"
            )
        if "podman" in cost and cost["podman"] > 0:
            print(
                f"networking cost ratio dockyard/podman: {cost['dockyard'] / cost['podman']:.2f}"
                " (goal <= 0.50)"
            )
        rates = {}
        for name, base in peers.items():
            env = env_podman if name == "podman" else None
            port = free_port()
            cid = subprocess.run(
                [
                    *base,
                    "run",
                    "-d",
                    "-p",
                    f"127.0.0.1:{port}:80",
                    "busybox",
                    "sh",
                    "-c",
                    "echo ok > /tmp/index.html; httpd -f -p 80 -h /tmp",
                ],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout.strip()
            try:
                rates[name] = load(port, args.seconds)
            except OSError as e:
                print(f"{name:9} published port unreachable from the host: {e}")
                continue
            finally:
                subprocess.run([*base, "rm", "-f", cid], check=False, capture_output=True, env=env)
            print(f"{name:9} {rates[name]:8.0f} requests/s through a published port")
        if "podman" in rates and "dockyard" in rates:
            print(
                f"throughput ratio dockyard/podman: {rates['dockyard'] / rates['podman']:.2f}"
                " (goal >= 1.00)"
            )
        elif not podman:
            print("podman not installed: no ratios")
    finally:
        subprocess.run([*dy, "network", "rm", "dockyard0"], check=False, capture_output=True)
        if podman:
            subprocess.run(
                [PODMAN_PEER, "system", "reset", "-f"],
                check=False,
                capture_output=True,
                env=env_podman,
            )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
