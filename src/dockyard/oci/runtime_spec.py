"""The OCI runtime-spec 1.x `config.json` and state, as TypedDicts over the parsed JSON.

TypedDicts (not dataclasses) because the bundle's JSON is read on every container start and the
runtime's start-up time is a feature; field names are exactly the spec's.
"""

from __future__ import annotations

from typing import Literal, TypedDict


class User(TypedDict, total=False):
    uid: int
    gid: int
    umask: int
    additionalGids: list[int]
    username: str


class Rlimit(TypedDict):
    type: str
    hard: int
    soft: int


class Capabilities(TypedDict, total=False):
    bounding: list[str]
    effective: list[str]
    inheritable: list[str]
    permitted: list[str]
    ambient: list[str]


class ConsoleSize(TypedDict):
    height: int
    width: int


class Process(TypedDict, total=False):
    terminal: bool
    consoleSize: ConsoleSize
    user: User
    args: list[str]
    env: list[str]
    cwd: str
    capabilities: Capabilities
    rlimits: list[Rlimit]
    noNewPrivileges: bool
    apparmorProfile: str
    oomScoreAdj: int
    selinuxLabel: str


class Root(TypedDict, total=False):
    path: str
    readonly: bool


class Mount(TypedDict, total=False):
    destination: str
    source: str
    type: str
    options: list[str]
    uidMappings: list[IDMapping]
    gidMappings: list[IDMapping]


class Hook(TypedDict, total=False):
    path: str
    args: list[str]
    env: list[str]
    timeout: int


class Hooks(TypedDict, total=False):
    prestart: list[Hook]
    createRuntime: list[Hook]
    createContainer: list[Hook]
    startContainer: list[Hook]
    poststart: list[Hook]
    poststop: list[Hook]


class Namespace(TypedDict, total=False):
    type: str
    path: str


class IDMapping(TypedDict):
    containerID: int
    hostID: int
    size: int


class Device(TypedDict, total=False):
    type: str
    path: str
    major: int
    minor: int
    fileMode: int
    uid: int
    gid: int


class DeviceCgroup(TypedDict, total=False):
    allow: bool
    type: str
    major: int
    minor: int
    access: str


class Memory(TypedDict, total=False):
    limit: int
    reservation: int
    swap: int
    kernel: int
    kernelTCP: int
    swappiness: int
    disableOOMKiller: bool


class CPU(TypedDict, total=False):
    shares: int
    quota: int
    burst: int
    period: int
    realtimeRuntime: int
    realtimePeriod: int
    cpus: str
    mems: str
    idle: int


class Pids(TypedDict, total=False):
    limit: int


class WeightDevice(TypedDict, total=False):
    major: int
    minor: int
    weight: int
    leafWeight: int


class ThrottleDevice(TypedDict):
    major: int
    minor: int
    rate: int


class BlockIO(TypedDict, total=False):
    weight: int
    leafWeight: int
    weightDevice: list[WeightDevice]
    throttleReadBpsDevice: list[ThrottleDevice]
    throttleWriteBpsDevice: list[ThrottleDevice]
    throttleReadIOPSDevice: list[ThrottleDevice]
    throttleWriteIOPSDevice: list[ThrottleDevice]


class HugepageLimit(TypedDict):
    pageSize: str
    limit: int


class Resources(TypedDict, total=False):
    devices: list[DeviceCgroup]
    memory: Memory
    cpu: CPU
    pids: Pids
    blockIO: BlockIO
    hugepageLimits: list[HugepageLimit]
    unified: dict[str, str]


class SeccompArg(TypedDict, total=False):
    index: int
    value: int
    valueTwo: int
    op: str


class SeccompSyscall(TypedDict, total=False):
    names: list[str]
    action: str
    errnoRet: int
    args: list[SeccompArg]


class Seccomp(TypedDict, total=False):
    defaultAction: str
    defaultErrnoRet: int
    architectures: list[str]
    flags: list[str]
    listenerPath: str
    syscalls: list[SeccompSyscall]


class Linux(TypedDict, total=False):
    namespaces: list[Namespace]
    uidMappings: list[IDMapping]
    gidMappings: list[IDMapping]
    timeOffsets: dict[str, dict[str, int]]
    devices: list[Device]
    cgroupsPath: str
    resources: Resources
    rootfsPropagation: str
    seccomp: Seccomp
    sysctl: dict[str, str]
    maskedPaths: list[str]
    readonlyPaths: list[str]
    mountLabel: str


class Spec(TypedDict, total=False):
    ociVersion: str
    process: Process
    root: Root
    hostname: str
    domainname: str
    mounts: list[Mount]
    hooks: Hooks
    annotations: dict[str, str]
    linux: Linux


Status = Literal["creating", "created", "running", "stopped"]


class State(TypedDict, total=False):
    """The runtime-spec state, as `state` prints it and hooks read it on stdin."""

    ociVersion: str
    id: str
    status: Status
    pid: int
    bundle: str
    annotations: dict[str, str]
