"""The monitor's event loop: requests from CLIs, container output, exits, timers.

Requests are JSON lines on `<root>/monitor.sock` (a stdin fd may ride along as SCM_RIGHTS):
`start {id, attach}`, `attach {id}`, `stop {id, timeout, signal}`, `kill {id, signal}`,
`wait {id}`, `stdin {id, data}`, `ping`. Replies and attached output are JSON lines too.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import heapq
import itertools
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.engine.logs import now_rfc3339
from dockyard.engine.monitor import supervisor
from dockyard.engine.monitor.netagent import NetAgent
from dockyard.engine.monitor.policy import (
    RestartPolicy,
    record_probe,
    restart_delay,
    should_restart,
)
from dockyard.engine.monitor.supervisor import Running
from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import DockyardError
from dockyard.runtime.foreground import become_subreaper

IDLE_EXIT = 2.0
# Compose's labels (dockyard.compose.convert): the engine reads them, it does not import compose.
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"


@dataclass
class Client:
    """One connection; `watching` is the container it is attached to (if any)."""

    sock: socket.socket
    buf: bytes = b""
    watching: str | None = None
    waiting: str | None = None


@dataclass
class Monitor:
    """All state of one monitor process (one engine root)."""

    engine: Engine
    sel: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    running: dict[str, Running] = field(default_factory=dict)
    clients: list[Client] = field(default_factory=list)
    timers: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    forced_restarts: set[str] = field(default_factory=set)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    net: NetAgent = field(init=False)

    def __post_init__(self) -> None:
        self.net = NetAgent(self.engine.paths.root)

    # ---- timers -------------------------------------------------------------------------------

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self.timers, (time.monotonic() + delay, next(self._seq), fn))

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, fn = heapq.heappop(self.timers)
            try:
                fn()
            except Exception:  # a bug must not take every container's monitor down
                log_exception("timer")

    # ---- main loop ----------------------------------------------------------------------------

    def serve(self, listener: socket.socket) -> None:
        listener.setblocking(False)
        self.sel.register(listener, selectors.EVENT_READ, self._accept)
        try:
            self.recover()
            self._loop()
        finally:
            self.net.close()

    def _loop(self) -> None:
        idle_since: float | None = None
        while True:
            timeout = 1.0
            if self.timers:
                timeout = max(0.0, min(timeout, self.timers[0][0] - time.monotonic()))
            for key, _ in self.sel.select(timeout):
                try:
                    key.data(key.fileobj)
                except Exception:  # a bug must not take every container's monitor down
                    log_exception("event handler")
            self._run_timers()
            self.net.reap_if_idle(time.monotonic())
            busy = self.running or self.timers or self.clients
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_EXIT:
                return

    def _accept(self, listener: object) -> None:
        assert isinstance(listener, socket.socket)
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        client = Client(sock)
        self.clients.append(client)
        self.sel.register(sock, selectors.EVENT_READ, lambda _s: self._client_readable(client))

    def _drop(self, client: Client) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(client.sock)
        with contextlib.suppress(ValueError):
            self.clients.remove(client)
        client.sock.close()

    def _client_readable(self, client: Client) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(client.sock, 65536, 4)
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self._drop(client)
            return
        client.buf += data
        while b"\n" in client.buf:
            line, client.buf = client.buf.split(b"\n", 1)
            try:
                self._handle(client, json.loads(line), fds)
            except DockyardError as e:
                self._reply(client, error=str(e), kind=type(e).__name__)
            except OSError as e:
                where = f": {e.filename}" if e.filename else ""
                self._reply(client, error=f"{e.strerror}{where}", kind="OSError")
            except Exception as e:
                log_exception("request")
                self._reply(client, error=f"internal error: {e!r}", kind="DockyardError")
            finally:
                for fd in fds:
                    os.close(fd)
                fds = []

    def _reply(self, client: Client, **message: Any) -> None:
        try:
            client.sock.setblocking(True)
            client.sock.settimeout(2.0)
            client.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError:
            self._drop(client)

    # ---- requests -----------------------------------------------------------------------------

    def _handle(self, client: Client, msg: dict[str, Any], fds: list[int]) -> None:
        op = msg.get("op")
        cid = str(msg.get("id", ""))
        if op == "ping":
            self._reply(client, ok=True, pid=os.getpid())
        elif op == "warm":  # a start on a bridge network follows: no reply, the caller is gone
            self.net.spawn()
        elif op == "network-create":
            self.net.create_network(dict(msg["spec"]))
            self._reply(client, ok=True)
        elif op == "network-remove":
            self.net.remove_network(str(msg["name"]))
            self._reply(client, ok=True)
        elif op == "start":
            if msg.get("attach"):
                client.watching = cid
            self.start(cid, fds[0] if fds else None)
            self._reply(client, ok=True, pid=self.running[cid].pid)
        elif op == "attach":
            if cid not in self.running:
                self._reply(client, exit=self.engine.containers.get(cid).exit_code)
                return
            client.watching = cid
            self._reply(client, ok=True)
        elif op in ("stop", "kill"):
            self.stop(client, cid, msg)
        elif op == "wait":
            if cid in self.running or self._restarting(cid):
                client.waiting = cid
            else:
                self._reply(client, exit=self.engine.containers.get(cid).exit_code)
        elif op == "stdin":
            running = self.running.get(cid)
            if running is not None and running.master is not None:
                os.write(running.master, base64.b64decode(msg.get("data", "")))
        else:
            self._reply(client, error=f"unknown monitor request {op!r}", kind="InvalidArgument")

    def _restarting(self, cid: str) -> bool:
        row = self.engine.containers.get(cid)
        return row.status == "restarting"

    # ---- container lifecycle ------------------------------------------------------------------

    def start(self, cid: str, stdin_fd: int | None, restart: bool = False) -> None:
        if cid in self.running:
            return
        running = supervisor.launch(self.engine, cid, stdin_fd, self.net)
        self.running[cid] = running
        fields: dict[str, Any] = {
            "status": "running",
            "pid": running.pid,
            "started_at": time.time(),
            "exit_code": 0,
            "oom_killed": 0,
            "error": "",
        }
        if not restart:
            fields["manually_stopped"] = 0
            fields["health"] = None
        row = self.engine.containers.get(cid)
        if restart:
            fields["restart_count"] = row.restart_count + 1
        if running.health is not None:
            fields["health"] = {"Status": "starting", "FailingStreak": 0, "Log": []}
            self.later(running.health.next_delay(0.0, "starting"), lambda: self.probe(cid, running))
        self.engine.containers.update(cid, "restart" if restart else "start", **fields)
        for fd, stream in running.streams.items():
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ, self._output(running, fd, stream))
        self.sel.register(running.pidfd, selectors.EVENT_READ, lambda _f: self.exited(running))

    def _output(self, running: Running, fd: int, stream: str) -> Callable[[object], None]:
        def readable(_f: object) -> None:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""  # EIO: the pty's last slave closed
            if not data:
                self.sel.unregister(fd)
                return
            self._emit(running, stream, data)

        return readable

    def _drain(self, running: Running) -> None:
        for fd, stream in list(running.streams.items()):
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self._emit(running, stream, data)

    def _emit(self, running: Running, stream: str, data: bytes) -> None:
        """Output of a container: into its log, and to every client attached to it."""
        if running.log is not None:
            running.log.write(stream, data)
        frame = {"stream": stream, "data": base64.b64encode(data).decode()}
        for client in list(self.clients):
            if client.watching == running.id:
                self._reply(client, **frame)

    def _on_exit(self, running: Running) -> Callable[[object], None]:
        return lambda _f: self.exited(running)

    def exited(self, running: Running) -> None:
        cid = running.id
        self.sel.unregister(running.pidfd)
        code = supervisor.exit_status(running)
        self._drain(running)
        oom = supervisor.cleanup(self.engine, running, self.net)
        del self.running[cid]
        row = self.engine.containers.get(cid)
        policy = RestartPolicy.from_host_config(row.config.get("HostConfig") or {})
        again = should_restart(policy, code, row.restart_count, row.manually_stopped)
        if cid in self.forced_restarts:
            self.forced_restarts.discard(cid)
            again = True
        self.engine.containers.update(
            cid,
            "die",
            status="restarting" if again else "exited",
            pid=0,
            exit_code=code,
            oom_killed=int(oom),
            finished_at=time.time(),
        )
        for client in list(self.clients):
            if cid in (client.watching, client.waiting):
                if again and client.waiting == cid:
                    continue
                self._reply(client, exit=code, oom=oom)
                client.watching = None
                client.waiting = None
        if again:
            delay = restart_delay(self.delays.get(cid, 0.0), time.monotonic() - running.started)
            self.delays[cid] = delay
            self.later(delay, lambda: self._restart(cid))
        elif (row.config.get("HostConfig") or {}).get("AutoRemove"):
            from dockyard.engine.container_remove import remove_container

            remove_container(self.engine, cid, force=True, volumes=True)

    def _restart(self, cid: str) -> None:
        row = self.engine.containers.get(cid)
        if row.status != "restarting" or row.manually_stopped:
            return
        try:
            self.start(cid, None, restart=True)
        except DockyardError as e:
            self.engine.containers.update(cid, "die", status="exited", error=str(e))
            log(f"restart of {cid}: {e}")
            return
        self._restart_dependents(row)

    def _restart_dependents(self, row: ContainerRow) -> None:
        """Compose's `depends_on: {restart: true}`, honoured when the policy restarted the
        dependency too (Docker Compose only does it for `compose restart`)."""
        labels = (row.config.get("Config") or {}).get("Labels") or {}
        project = labels.get(COMPOSE_PROJECT)
        service = labels.get(COMPOSE_SERVICE)
        if not project or not service:
            return
        for other in self.engine.containers.list():
            other_labels = (other.config.get("Config") or {}).get("Labels") or {}
            if other_labels.get(COMPOSE_PROJECT) != project or other.id == row.id:
                continue
            wants = [
                entry.split(":")
                for entry in str(other_labels.get(COMPOSE_DEPENDS_ON, "")).split(",")
                if entry
            ]
            if not any(w[0] == service and w[-1] == "true" for w in wants):
                continue
            running = self.running.get(other.id)
            if running is None:
                continue
            log(f"restarting {other.name}: its dependency {row.name} restarted")
            self.engine.containers.update(other.id, status="restarting")
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(running.pidfd, signal.SIGKILL)
            # `exited` restarts it: mark it so whatever its own policy is.
            self.forced_restarts.add(other.id)

    def stop(self, client: Client, cid: str, msg: dict[str, Any]) -> None:
        row = self.engine.containers.get(cid)
        self.engine.containers.update(
            cid, "kill" if msg["op"] == "kill" else "stop", manually_stopped=1
        )
        running = self.running.get(cid)
        if running is None:
            if row.status == "restarting":
                self.engine.containers.update(cid, status="exited")
            self._reply(client, exit=row.exit_code)
            return
        sig = int(msg.get("signal") or signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(running.pidfd, sig)
        if msg["op"] == "kill":
            self._reply(client, ok=True)
            return
        client.waiting = cid
        timeout = float(msg.get("timeout", 10))

        def force() -> None:
            if self.running.get(cid) is running:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(running.pidfd, signal.SIGKILL)

        self.later(timeout, force)

    # ---- healthchecks -------------------------------------------------------------------------

    def probe(self, cid: str, running: Running) -> None:
        if self.running.get(cid) is not running or running.health is None or running.probe_pid:
            return
        check = running.health
        started = now_rfc3339()
        began = time.monotonic()
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                from dockyard.runtime.container_exec import ExecOptions, exec_process

                code = exec_process(
                    self.engine.paths.runtime_root, cid, ExecOptions(args=check.command)
                )
            finally:
                os._exit(code)
        os.close(out_w)
        running.probe_pid = pid
        pidfd = os.pidfd_open(pid)
        chunks: list[bytes] = []
        os.set_blocking(out_r, False)

        def read_output(_f: object) -> None:
            with contextlib.suppress(BlockingIOError):
                data = os.read(out_r, 4096)
                if data and sum(map(len, chunks)) < 4096:
                    chunks.append(data)
                elif not data:
                    self.sel.unregister(out_r)

        def done(_f: object) -> None:
            self.sel.unregister(pidfd)
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(out_r)
            os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(BlockingIOError):
                chunks.append(os.read(out_r, 4096))
            os.close(out_r)
            running.probe_pid = 0
            if os.WIFSIGNALED(status):
                code, output = -1, f"Health check exceeded timeout ({check.timeout}s)"
            else:
                code, output = os.WEXITSTATUS(status), b"".join(chunks).decode(errors="replace")
            if self.running.get(cid) is not running:
                return
            row = self.engine.containers.get(cid)
            in_start = time.monotonic() - running.started < check.start_period
            health = record_probe(
                row.health,
                check,
                exit_code=code,
                output=output,
                start=started,
                end=now_rfc3339(),
                in_start_period=in_start,
            )
            self.engine.containers.update(cid, f"health_status: {health['Status']}", health=health)
            delay = check.next_delay(time.monotonic() - running.started, str(health["Status"]))
            self.later(
                max(0.0, delay - (time.monotonic() - began)), lambda: self.probe(cid, running)
            )

        def timeout() -> None:
            if running.probe_pid == pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

        self.sel.register(out_r, selectors.EVENT_READ, read_output)
        self.sel.register(pidfd, selectors.EVENT_READ, done)
        self.later(check.timeout, timeout)

    # ---- after a monitor restart --------------------------------------------------------------

    def recover(self) -> None:
        """Containers the database says are running but no monitor watches: adopt or close.

        Networks are restored first (after a reboot their bridges and rules are gone).
        """
        from dockyard.runtime.errors import ContainerNotFound
        from dockyard.runtime.state import ContainerDir

        live = [
            row
            for row in self.engine.containers.list()
            if row.status in ("running", "restarting", "paused")
        ]
        if any(supervisor.bridged(row.config) for row in live):
            self.net.restore()
        for row in live:
            cdir = ContainerDir(self.engine.paths.runtime_root, row.id)
            try:
                record = cdir.load()
                alive = cdir.status(record) == "running"
            except ContainerNotFound:
                alive = False
            if alive:
                running = Running(
                    id=row.id,
                    pid=record.pid,
                    pidfd=os.pidfd_open(record.pid),
                    cgroup_path=record.cgroup_path,
                    started=time.monotonic(),
                    log=None,
                    adopted=True,
                )
                self.running[row.id] = running
                self.sel.register(running.pidfd, selectors.EVENT_READ, self._on_exit(running))
            elif row.status == "restarting":
                self.later(0, functools.partial(self._restart, row.id))
            else:
                supervisor.release(self.engine, row.id, self.net)
                policy = RestartPolicy.from_host_config(row.config.get("HostConfig") or {})
                # As Docker's daemon at start: `always`/`unless-stopped` containers that were
                # running come back (after a reboot, or a monitor killed with its containers).
                again = policy.name in ("always", "unless-stopped") and not row.manually_stopped
                self.engine.containers.update(
                    row.id,
                    "die",
                    status="restarting" if again else "exited",
                    pid=0,
                    exit_code=255,
                    finished_at=time.time(),
                    error="the container's monitor was killed; its exit code is unknown",
                )
                if again:
                    self.later(0, functools.partial(self._restart, row.id))


def log_exception(where: str) -> None:
    import traceback

    log(f"{where} failed:\n{traceback.format_exc()}")


def log(message: str) -> None:
    sys.stderr.write(f"{now_rfc3339()} dockyard-monitor: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """`python -m dockyard.engine.monitor.server ROOT`: serve one root until idle."""
    args = sys.argv[1:] if argv is None else argv
    engine = Engine(Path(args[0]))
    warm_network = "--warm-network" in args[1:]
    paths = engine.paths
    lock = os.open(paths.monitor_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another monitor serves this root
    become_subreaper()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    with contextlib.suppress(FileNotFoundError):
        paths.monitor_socket.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.monitor_socket))
    listener.listen(64)
    try:
        monitor = Monitor(engine)
        if warm_network:
            monitor.net.spawn()
        monitor.serve(listener)
    finally:
        with contextlib.suppress(FileNotFoundError):
            paths.monitor_socket.unlink()
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
