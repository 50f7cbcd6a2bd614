"""Benchmark: the Postgres + pgAdmin example from `compose up -d` to both services answering.

The same two images (built once by `dockyard build` from examples/postgres-pgadmin, then
`dockyard save | podman-peer load`) run under:

- dockyard:       `dockyard --root R compose up -d` of examples/postgres-pgadmin/compose.yaml;
- podman-compose: `podman-compose up -d` (PyPI, with /work/shared/peers/podman-peer as
                  `podman`) of the same file with `image:` set to the loaded images.

Caches are warm: images present, data volumes initialised by a first round that is not
counted. A run ends when `pg_isready -h 127.0.0.1 -p 5432` succeeds and pgAdmin answers
`GET /misc/ping` on 127.0.0.1:5050, probed every 50 ms from the host for both engines (podman
runs no healthchecks without systemd); then `down` (volumes kept). podman 4.3 also ignores
`condition: service_healthy`, so a second dockyard row ("ungated") starts pgAdmin at once as
podman does. Engines alternate, medians and ratios are printed. Goal (issue 8): dockyard <=
0.7x podman-compose. Run as root:

    .venv/bin/python bench/seed_stack.py [--runs 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "postgres-pgadmin"
DOCKYARD = str(Path(sys.executable).parent / "dockyard")
PODMAN_PEER = Path("/work/shared/peers/podman-peer")
IMAGES = {"db": "postgres-pgadmin-db", "pgadmin": "postgres-pgadmin-pgadmin"}


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> str:
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
        env=env, timeout=timeout,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def ready() -> bool:
    """Postgres accepts TCP connections and pgAdmin serves its ping page."""
    probe = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", "-t", "1"]
    if subprocess.run(probe, check=False).returncode != 0:
        return False
    try:
        with urllib.request.urlopen("http://127.0.0.1:5050/misc/ping", timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_ready(timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit("the stack did not answer within 300 s")
        time.sleep(0.05)


def prepare_images(root: Path) -> None:
    """debian:bookworm, the wheels and both images in the dockyard root (cached after once)."""
    dy = [DOCKYARD, "--root", str(root)]
    if subprocess.run([*dy, "image", "inspect", "debian:bookworm"], capture_output=True,
                      check=False).returncode != 0:  # fmt: skip
        print("bootstrapping debian:bookworm …", flush=True)
        run([*dy, "image", "bootstrap", "debian:bookworm"])
    run([str(EXAMPLE / "fetch-wheels.sh")])
    print("building the images (cached after the first time) …", flush=True)
    run([*dy, "build", "-q", "-t", IMAGES["db"], str(EXAMPLE / "postgres")])
    run([*dy, "build", "-q", "-t", IMAGES["pgadmin"], str(EXAMPLE / "pgadmin")])


def podman_env(cache: Path) -> dict[str, str]:
    """PATH with `podman` (the peer wrapper) and `podman-compose` (a private venv from PyPI)."""
    bin_dir = cache / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "podman"
    # The peer script ends in `exec podman`: the real one must come first on its own PATH.
    wrapper.write_text(f'#!/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin exec {PODMAN_PEER} "$@"\n')
    wrapper.chmod(0o755)
    venv = cache / "podman-compose-venv"
    if not (venv / "bin" / "podman-compose").exists():
        print("installing podman-compose from PyPI …", flush=True)
        run(["/usr/bin/python3", "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "podman-compose"])
    (bin_dir / "podman-compose").unlink(missing_ok=True)
    (bin_dir / "podman-compose").symlink_to(venv / "bin" / "podman-compose")
    path = f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return dict(os.environ, PATH=path, PEER_ROOT=str(cache / "podman-root"))


def load_into_podman(root: Path, env: dict[str, str]) -> None:
    """Copy both images into podman's store unless it has them with the same ids."""
    want = run([DOCKYARD, "--root", str(root), "image", "inspect", "-f", "{{.Id}}",
                *IMAGES.values()]).split()  # fmt: skip
    have = subprocess.run(
        ["podman", "image", "inspect", "-f", "{{.Id}}",
         *(f"docker.io/library/{i}:latest" for i in IMAGES.values())],
        capture_output=True, text=True, env=env, check=False,
    ).stdout.split()  # fmt: skip
    if [w.removeprefix("sha256:") for w in want] == have:
        return
    print("dockyard save | podman load …", flush=True)
    save = subprocess.Popen(
        [DOCKYARD, "--root", str(root), "save", *IMAGES.values()], stdout=subprocess.PIPE
    )
    subprocess.run(["podman", "load", "-q"], stdin=save.stdout, env=env, check=True,
                   capture_output=True)  # fmt: skip
    if save.wait() != 0:
        raise SystemExit("dockyard save failed")


def absolute_bind(volume: str) -> str:
    """`./servers.json:/pgadmin4/servers.json:ro` with the source made absolute."""
    if not volume.startswith("./"):
        return volume
    source, rest = volume.split(":", 1)
    return f"{EXAMPLE / source}:{rest}"


def podman_compose_file(cache: Path) -> Path:
    """compose.yaml with the loaded images and absolute bind sources."""
    project = yaml.safe_load((EXAMPLE / "compose.yaml").read_text())
    for name, service in project["services"].items():
        service.pop("build", None)
        service["image"] = f"docker.io/library/{IMAGES[name]}:latest"
        service["volumes"] = [absolute_bind(v) for v in service.get("volumes", [])]
        service.get("healthcheck", {}).pop("start_interval", None)  # podman 4.3 refuses it
    out = cache / "podman-compose.yaml"
    out.write_text(yaml.safe_dump(project, sort_keys=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/var/tmp/dockyard-bench-seed"))
    args = parser.parse_args()
    if not port_free(5432) or not port_free(5050):
        raise SystemExit("ports 5432 and 5050 must be free on the host")
    args.cache.mkdir(parents=True, exist_ok=True)
    root = args.cache / "root"
    prepare_images(root)
    dockyard = [DOCKYARD, "--root", str(root), "compose", "-f", str(EXAMPLE / "compose.yaml")]
    # podman-compose with podman 4.3 ignores `condition: service_healthy` and starts pgAdmin at
    # once; the second dockyard row does the same, to compare the engines' own cost.
    ungated = args.cache / "ungated.yaml"
    ungated.write_text(
        "services:\n  pgadmin:\n    depends_on:\n      db: !override {condition: service_started}\n"
    )
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "dockyard": (dockyard, None),
        "dockyard ungated": ([*dockyard, "-f", str(ungated)], None),
    }
    podman = PODMAN_PEER.exists() and shutil.which("podman", path="/usr/bin") is not None
    if podman:
        peer_env = podman_env(args.cache)
        load_into_podman(root, peer_env)
        compose_file = str(podman_compose_file(args.cache))
        commands["podman-compose"] = (["podman-compose", "-f", compose_file], peer_env)
    times: dict[str, list[float]] = {engine: [] for engine in commands}
    try:
        for i in range(args.runs + 1):  # the first round initialises the volumes; dropped
            for engine, (compose, env) in commands.items():
                start = time.perf_counter()
                run([*compose, "up", "-d"], env=env)
                wait_ready()
                elapsed = time.perf_counter() - start
                run([*compose, "down"], env=env)
                if i:
                    times[engine].append(elapsed)
                print(f"round {i} {engine}: {elapsed:.2f}s", flush=True)
    finally:
        for compose, env in commands.values():
            subprocess.run([*compose, "down", "-v"], env=env, capture_output=True, check=False)
    medians = {engine: statistics.median(values) for engine, values in times.items()}
    print(f"up -d until psql and pgAdmin answer, warm caches, {args.runs} runs each")
    for engine, median in medians.items():
        spread = f"min {min(times[engine]):.2f}s max {max(times[engine]):.2f}s"
        print(f"{engine:<17} median {median:.2f}s  ({spread})")
    if podman:
        for ours in ("dockyard", "dockyard ungated"):
            print(f"{ours} / podman-compose: {medians[ours] / medians['podman-compose']:.2f}x")
    else:
        print("podman-compose: podman or the peer wrapper is missing — skipped")


if __name__ == "__main__":
    main()
