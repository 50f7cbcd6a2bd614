"""`top`: the processes of a container's cgroup, as `ps -ef` prints them, read from /proc.

Docker runs the host's `ps` and keeps the rows of the container's pids; we read /proc directly
(the same numbers, no `ps` needed). `-o` picks columns like ps does.
"""

from __future__ import annotations

import os
import pwd
import time
from dataclasses import dataclass

from dockyard.engine.service import Engine
from dockyard.errors import Conflict, InvalidArgument

DEFAULT_COLUMNS = ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")
# ps's -o names and the header each prints
_FIELDS = {
    "uid": "UID",
    "user": "USER",
    "pid": "PID",
    "ppid": "PPID",
    "c": "C",
    "stime": "STIME",
    "tty": "TTY",
    "time": "TIME",
    "cmd": "CMD",
    "args": "COMMAND",
    "comm": "COMMAND",
}


@dataclass(frozen=True)
class ProcInfo:
    """What `top` shows of one process, as read from /proc/<pid>."""

    pid: int
    ppid: int
    uid: int
    comm: str
    argv: tuple[str, ...]
    tty_nr: int
    cpu_ticks: int
    start_ticks: int


def parse_proc(pid: int, stat: str, status: str, cmdline: bytes) -> ProcInfo:
    """A ProcInfo from the text of /proc/<pid>/stat, status and cmdline (proc(5))."""
    comm = stat[stat.find("(") + 1 : stat.rfind(")")]
    fields = stat[stat.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state) of proc(5): ppid is 4, tty_nr 7, utime 14, stime 15, start 22.
    uid = 0
    for line in status.splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[2])  # the effective uid, as ps's UID column
    argv = tuple(a.decode(errors="replace") for a in cmdline.split(b"\0") if a)
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        uid=uid,
        comm=comm,
        argv=argv,
        tty_nr=int(fields[4]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        start_ticks=int(fields[19]),
    )


def tty_name(tty_nr: int) -> str:
    """ps's TTY: `pts/N` for pseudo-terminals, `?` for none (devices.txt majors)."""
    major = (tty_nr >> 8) & 0xFFF
    minor = (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if tty_nr == 0:
        return "?"
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    if major == 4 and minor < 64:
        return f"tty{minor}"
    if major == 5 and minor == 1:
        return "console"
    return "?"


def cpu_time(seconds: int) -> str:
    """ps's TIME: `[DD-]HH:MM:SS`."""
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{text}" if days else text


def start_time(started: float, now: float) -> str:
    """ps's STIME: `HH:MM` today, `MonDD` this year, else the year."""
    when, today = time.localtime(started), time.localtime(now)
    if when.tm_year == today.tm_year and when.tm_yday == today.tm_yday:
        return time.strftime("%H:%M", when)
    if when.tm_year == today.tm_year:
        return time.strftime("%b%d", when)
    return time.strftime("%Y", when)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def ps_fields(ps_args: list[str]) -> list[str]:
    """The -o fields that `ps_args` ask for; the default (-ef) columns for none, -e, -f, -ef."""
    fields: list[str] = []
    i = 0
    while i < len(ps_args):
        arg = ps_args[i]
        if arg in ("-e", "-f", "-ef", "-fe", "-A", "aux", "-aux"):
            i += 1
            continue
        if arg == "-o" and i + 1 < len(ps_args):
            spec = ps_args[i + 1]
        elif arg.startswith("-o") and len(arg) > 2:
            spec = arg[2:]
        else:
            raise InvalidArgument(f"ps option {arg!r} is not supported by top: use -ef or -o")
        for name in spec.split(","):
            key = name.split("=")[0].strip().lower()
            if key not in _FIELDS:
                raise InvalidArgument(f"unknown ps field {key!r}: use one of {', '.join(_FIELDS)}")
            fields.append(key)
        i += 2 if arg == "-o" else 1
    return fields or ["uid", "pid", "ppid", "c", "stime", "tty", "time", "cmd"]


def render(
    infos: list[ProcInfo], fields: list[str], *, now: float, boot: float, hz: int
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of `top` for the processes (pure: clock and boot time given)."""
    headers = [_FIELDS[f] if f != "uid" else "UID" for f in fields]
    rows = []
    for info in sorted(infos, key=lambda p: p.pid):
        started = boot + info.start_ticks / hz
        elapsed = max(now - started, 1e-9)
        command = " ".join(info.argv) if info.argv else f"[{info.comm}]"
        values = {
            "uid": _user(info.uid),
            "user": _user(info.uid),
            "pid": str(info.pid),
            "ppid": str(info.ppid),
            "c": str(min(99, int(info.cpu_ticks / hz / elapsed * 100))),
            "stime": start_time(started, now),
            "tty": tty_name(info.tty_nr),
            "time": cpu_time(info.cpu_ticks // hz),
            "cmd": command,
            "args": command,
            "comm": info.comm,
        }
        rows.append([values[f] for f in fields])
    return headers, rows


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return 0.0


def read_proc(pid: int) -> ProcInfo | None:
    """The ProcInfo of a live process; None when it has gone meanwhile."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return parse_proc(pid, stat, status, cmdline)


def top_container(
    engine: Engine, text: str, ps_args: list[str]
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the processes running in the container `text` names."""
    from dockyard.engine.container_pause import cgroup_of

    fields = ps_fields(ps_args)
    row = engine.containers.find(text)
    if not row.running:
        raise Conflict(f"Container {row.id} is not running")
    infos = [i for i in map(read_proc, cgroup_of(engine, row).pids()) if i is not None]
    hz = os.sysconf("SC_CLK_TCK")
    return render(infos, fields, now=time.time(), boot=_boot_time(), hz=hz)
