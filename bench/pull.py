"""Benchmark: `dockyard pull` of an image from a local registry against the floor and podman.

The image is a Debian minbase made with `dockyard image bootstrap debian:bookworm` (busybox
when mmdebstrap is absent), pushed to Debian's docker-registry on 127.0.0.1 and recompressed
with gzip by skopeo, as images on real registries are. Each run pulls into a fresh root:

- dockyard: `dockyard --root R pull -q REF`;
- floor:    `skopeo copy docker://REF oci:DIR` then GNU `tar -xzf` of each layer, in order;
- podman:   `podman-peer pull REF` (when /work/shared/peers/podman-peer and podman exist),
            the image removed again between runs.

The three alternate, at least 5 runs each; medians and ratios are printed. Goal (issue 3):
dockyard <= 1.0x the floor and <= 0.8x podman. Run as root:

    .venv/bin/python bench/pull.py [--runs 5] [--busybox] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dockyard.testing.registry import run_registry  # noqa: E402

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
PODMAN_PEER = Path("/work/shared/peers/podman-peer")


def run(cmd: list[str], **env: str) -> str:
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
        env=dict(os.environ, **env),
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def source_image(cache: Path, busybox: bool) -> tuple[Path, str]:
    """A dockyard root holding the image to serve (made once per cache dir) and its name."""
    root = cache / "source-root"
    name = "busybox:latest" if busybox else "debian:bookworm"
    marker = cache / f"made-{name.replace(':', '-')}"
    if not marker.exists():
        what = "busybox" if busybox else "debian:bookworm"
        print(f"making {name} with dockyard image bootstrap {what} …", flush=True)
        cmd = [DOCKYARD, "--root", str(root), "image", "bootstrap", what]
        if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
            # bootstrap refuses the device nodes mmdebstrap writes under /dev; leave them out.
            print("bootstrap failed; mmdebstrap --skip=output/dev + dockyard import", flush=True)
            tarball = cache / "debian.tar"
            run(["mmdebstrap", "--variant=minbase", "--quiet", "--skip=output/dev",
                 "bookworm", str(tarball)])  # fmt: skip
            run([DOCKYARD, "--root", str(root), "import", str(tarball), name])
            tarball.unlink()
        marker.touch()
    return root, name


def publish(root: Path, name: str, host: str, work: Path) -> str:
    """Push the image, then let skopeo gzip its layers into the reference the bench pulls."""
    raw = f"{host}/bench/raw:latest"
    ref = f"{host}/bench/image:latest"
    cfg = {"DOCKER_CONFIG": str(work / "docker"), "DOCKYARD_REGISTRIES_CONFIG": "/nonexistent"}
    run([DOCKYARD, "--root", str(root), "tag", name, raw], **cfg)
    run([DOCKYARD, "--root", str(root), "push", "-q", raw], **cfg)
    run([
        "skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
        "--dest-compress", "--dest-compress-format", "gzip", f"docker://{raw}", f"docker://{ref}",
    ])  # fmt: skip
    return ref


def dockyard_pull(ref: str, work: Path) -> Callable[[], None]:
    def once() -> None:
        root = work / "dockyard-root"
        run([DOCKYARD, "--root", str(root), "pull", "-q", ref], DOCKER_CONFIG=str(work / "d"))

    return once


def floor_pull(ref: str, work: Path) -> Callable[[], None]:
    def once() -> None:
        layout = work / "floor-layout"
        rootfs = work / "floor-rootfs"
        rootfs.mkdir()
        run([
            "skopeo", "copy", "--quiet", "--src-tls-verify=false",
            f"docker://{ref}", f"oci:{layout}:x",
        ])  # fmt: skip
        index = json.loads((layout / "index.json").read_text())
        blobs = layout / "blobs" / "sha256"
        manifest = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_text())
        for layer in manifest["layers"]:
            run(["tar", "-xzf", str(blobs / layer["digest"][7:]), "-C", str(rootfs)])

    return once


def podman_pull(ref: str, work: Path) -> Callable[[], None]:
    def once() -> None:
        run([str(PODMAN_PEER), "pull", "-q", ref])

    return once


def clean(work: Path, ref: str, podman: bool) -> None:
    for name in ("dockyard-root", "floor-layout", "floor-rootfs"):
        shutil.rmtree(work / name, ignore_errors=True)
    if podman:
        subprocess.run(
            [str(PODMAN_PEER), "rmi", "-f", ref], capture_output=True, check=False
        )  # fmt: skip
    subprocess.run(["sync"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busybox", action="store_true", help="bench busybox, not Debian")
    parser.add_argument("--cache", type=Path, default=Path("/var/tmp/dockyard-bench-pull"))
    args = parser.parse_args()
    busybox = args.busybox or shutil.which("mmdebstrap") is None
    args.cache.mkdir(parents=True, exist_ok=True)
    root, name = source_image(args.cache, busybox)
    podman = PODMAN_PEER.exists() and shutil.which("podman") is not None
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        with run_registry(work / "registry") as registry:
            ref = publish(root, name, registry.host, work)
            peers: dict[str, Callable[[], None]] = {
                "dockyard": dockyard_pull(ref, work),
                "floor (skopeo + tar -xz)": floor_pull(ref, work),
            }
            if podman:
                peers["podman"] = podman_pull(ref, work)
            times: dict[str, list[float]] = {peer: [] for peer in peers}
            clean(work, ref, podman)
            for i in range(args.runs + 1):  # the first round warms caches and is dropped
                for peer, once in peers.items():
                    start = time.perf_counter()
                    once()
                    elapsed = time.perf_counter() - start
                    clean(work, ref, podman)
                    if i:
                        times[peer].append(elapsed)
    size = sum(p.stat().st_size for p in (root / "content/blobs").rglob("*") if p.is_file())
    print(f"image {name}: {size / 1e6:.1f} MB stored uncompressed; {args.runs} runs each")
    medians = {peer: statistics.median(values) for peer, values in times.items()}
    for peer, median in medians.items():
        spread = f"min {min(times[peer]):.3f}s max {max(times[peer]):.3f}s"
        print(f"{peer:<26} median {median:.3f}s  ({spread})")
    ours = medians["dockyard"]
    for peer, median in medians.items():
        if peer != "dockyard":
            print(f"dockyard / {peer}: {ours / median:.2f}x")
    if not podman:
        print("podman: not installed (apt-get install podman runc) — skipped")


if __name__ == "__main__":
    main()
