"""The container's seccomp filter: validate the runtime-spec object, plan rules, load them.

`validate_seccomp` runs at `create` time, before anything exists, so a bad profile fails with a
message naming the field. `plan_seccomp` is the pure translation into libseccomp terms;
`prepare_seccomp` builds the filter (before pivot_root: it loads the host's libseccomp) and
`load_seccomp` installs it; `install_seccomp` does both at once.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument, KernelError, Unavailable
from dockyard.kernel import seccomp as scmp
from dockyard.kernel.seccomp import ArgCmp, Compare, FilterAttr

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Seccomp, SeccompArg


# Runtime-spec action names → their libseccomp value (ERRNO and TRACE take errnoRet).
_ACTIONS: Mapping[str, int] = {
    "SCMP_ACT_KILL": scmp.SCMP_ACT_KILL,
    "SCMP_ACT_KILL_THREAD": scmp.SCMP_ACT_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": scmp.SCMP_ACT_KILL_PROCESS,
    "SCMP_ACT_TRAP": scmp.SCMP_ACT_TRAP,
    "SCMP_ACT_ERRNO": scmp.act_errno(0),
    "SCMP_ACT_TRACE": scmp.act_trace(0),
    "SCMP_ACT_ALLOW": scmp.SCMP_ACT_ALLOW,
    "SCMP_ACT_LOG": scmp.SCMP_ACT_LOG,
}
_WITH_RET = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")

_OPS: Mapping[str, Compare] = {
    "SCMP_CMP_NE": Compare.NE,
    "SCMP_CMP_LT": Compare.LT,
    "SCMP_CMP_LE": Compare.LE,
    "SCMP_CMP_EQ": Compare.EQ,
    "SCMP_CMP_GE": Compare.GE,
    "SCMP_CMP_GT": Compare.GT,
    "SCMP_CMP_MASKED_EQ": Compare.MASKED_EQ,
}

# Runtime-spec flags → the libseccomp attribute that asks seccomp(2) for them.
_FLAGS: Mapping[str, FilterAttr] = {
    "SECCOMP_FILTER_FLAG_TSYNC": FilterAttr.CTL_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": FilterAttr.CTL_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": FilterAttr.CTL_SSB,
}

ARCHITECTURES = frozenset(
    {
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",
        "SCMP_ARCH_SHEB",
    }
)

_MAX_U64 = (1 << 64) - 1
_MAX_RET = 0xFFFF


@dataclass(frozen=True)
class SeccompRule:
    """One libseccomp rule: `action` when `syscall` is made and every comparison in `args` holds."""

    syscall: str
    action: int
    args: tuple[ArgCmp, ...] = ()


@dataclass(frozen=True)
class SeccompPlan:
    """Everything `install_seccomp` does, as data: arches by libseccomp name, attrs, rules."""

    default_action: int
    architectures: tuple[str, ...]
    attributes: tuple[tuple[FilterAttr, int], ...]
    rules: tuple[SeccompRule, ...]


def _bad(field: str, problem: str, fix: str) -> InvalidArgument:
    return InvalidArgument(f"linux.seccomp.{field} {problem}: {fix}")


def _check_int(value: object, field: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(field, f"is {value!r}", f"use an integer from {low} to {high}")


def _check_action(action: object, field: str) -> None:
    if action == "SCMP_ACT_NOTIFY":
        raise _bad(field, "is SCMP_ACT_NOTIFY, which dockyard does not support", "use another")
    if action not in _ACTIONS:
        raise _bad(field, f"{action!r} is unknown", "use one of " + ", ".join(_ACTIONS))


def _check_str_list(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(field, "is not a list of strings", "write it as a JSON array of strings")
    return value


def _validate_arg(arg: object, field: str) -> None:
    if not isinstance(arg, dict):
        raise _bad(field, "is not an object", "write {index, value, valueTwo, op}")
    _check_int(arg.get("index"), f"{field}.index", 0, scmp.MAX_SYSCALL_ARGS - 1)
    _check_int(arg.get("value", 0), f"{field}.value", 0, _MAX_U64)
    _check_int(arg.get("valueTwo", 0), f"{field}.valueTwo", 0, _MAX_U64)
    if arg.get("op") not in _OPS:
        raise _bad(f"{field}.op", f"{arg.get('op')!r} is unknown", "use one of " + ", ".join(_OPS))


def _validate_syscall(call: object, field: str) -> None:
    if not isinstance(call, dict):
        raise _bad(field, "is not an object", "write {names, action, errnoRet, args}")
    names = _check_str_list(call.get("names"), f"{field}.names")
    if not names:
        raise _bad(f"{field}.names", "is empty", "name at least one system call")
    action = call.get("action")
    _check_action(action, f"{field}.action")
    if "errnoRet" in call:
        if action not in _WITH_RET:
            raise _bad(f"{field}.errnoRet", f"is set for {action}", "drop it or use SCMP_ACT_ERRNO")
        _check_int(call["errnoRet"], f"{field}.errnoRet", 0, _MAX_RET)
    args = call.get("args", [])
    if not isinstance(args, list):
        raise _bad(f"{field}.args", "is not a list", "write it as a JSON array of objects")
    for i, arg in enumerate(args):
        _validate_arg(arg, f"{field}.args[{i}]")


def validate_seccomp(profile: Seccomp) -> None:
    """Raise InvalidArgument naming the first bad field of a runtime-spec seccomp object."""
    raw: Mapping[str, object] = profile
    if not isinstance(profile, dict):
        raise InvalidArgument("linux.seccomp is not an object: write it as a JSON object")
    _check_action(raw.get("defaultAction"), "defaultAction")
    if "defaultErrnoRet" in raw:
        _check_int(raw["defaultErrnoRet"], "defaultErrnoRet", 0, _MAX_RET)
    if raw.get("listenerPath"):
        raise _bad("listenerPath", "is set", "drop it: seccomp notify is not supported")
    for arch in _check_str_list(raw.get("architectures", []), "architectures"):
        if arch not in ARCHITECTURES:
            raise _bad("architectures", f"has unknown {arch!r}", "use SCMP_ARCH_* names")
    for flag in _check_str_list(raw.get("flags", []), "flags"):
        if flag not in _FLAGS:
            raise _bad("flags", f"has unsupported {flag!r}", "use one of " + ", ".join(_FLAGS))
    syscalls = raw.get("syscalls", [])
    if not isinstance(syscalls, list):
        raise _bad("syscalls", "is not a list", "write it as a JSON array of objects")
    for i, call in enumerate(syscalls):
        _validate_syscall(call, f"syscalls[{i}]")


def _action(name: str, ret: int | None) -> int:
    if name == "SCMP_ACT_ERRNO":
        return scmp.act_errno(errno.EPERM if ret is None else ret)
    if name == "SCMP_ACT_TRACE":
        return scmp.act_trace(errno.EPERM if ret is None else ret)
    return _ACTIONS[name]


def _conditions(args: Sequence[SeccompArg]) -> list[tuple[ArgCmp, ...]]:
    """The argument conditions of one rule, as one or more libseccomp rules.

    libseccomp rejects two comparisons of the same argument in one rule (EINVAL), so, as runc
    does, such a rule becomes one rule per comparison: any of them matching triggers the action.
    """
    cmps = tuple(
        ArgCmp(a["index"], _OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0)) for a in args
    )
    if len({c.arg for c in cmps}) < len(cmps):
        return [(c,) for c in cmps]
    return [cmps]


def plan_seccomp(profile: Seccomp) -> SeccompPlan:
    """Translate a validated runtime-spec seccomp object into libseccomp rules (pure)."""
    default = _action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    # runc's arch names: SCMP_ARCH_X86_64 → "x86_64", the spelling libseccomp resolves.
    arches = tuple(a.removeprefix("SCMP_ARCH_").lower() for a in profile.get("architectures", []))
    # We set no_new_privs ourselves (process.noNewPrivileges), so libseccomp must not.
    attrs = [(FilterAttr.CTL_NNP, 0)] + [(_FLAGS[f], 1) for f in profile.get("flags", [])]
    rules: list[SeccompRule] = []
    for call in profile.get("syscalls", []):
        action = _action(call["action"], call.get("errnoRet"))
        # libseccomp refuses rules whose action is the default (EACCES); runc drops them too.
        if action == default:
            continue
        for conditions in _conditions(call.get("args", [])):
            rules.extend(SeccompRule(name, action, conditions) for name in call["names"])
    return SeccompPlan(default, arches, tuple(attrs), tuple(rules))


def build_filter(lib: scmp.Libseccomp, plan: SeccompPlan) -> scmp.SeccompFilter:
    """A libseccomp filter holding `plan`; names libseccomp does not know are skipped (as runc)."""
    filt = lib.new_filter(plan.default_action)
    try:
        for arch in plan.architectures:
            token = lib.arch_resolve_name(arch)
            if token is None:
                raise Unavailable(f"libseccomp does not know architecture {arch!r}: upgrade it")
            try:
                filt.arch_add(token)
            except OSError as exc:
                if exc.errno != errno.EEXIST:  # the native arch is in every new filter
                    raise KernelError("seccomp_arch_add", arch, exc.errno or errno.EIO) from exc
        for attr, value in plan.attributes:
            try:
                filt.attr_set(attr, value)
            except OSError as exc:
                raise KernelError(
                    "seccomp_attr_set", attr.name, exc.errno or errno.EIO, "kernel too old?"
                ) from exc
        for rule in plan.rules:
            nr = lib.syscall_resolve_name(rule.syscall)
            if nr is None:
                continue
            try:
                filt.rule_add(rule.action, nr, rule.args)
            except OSError as exc:
                raise KernelError("seccomp_rule_add", rule.syscall, exc.errno or errno.EIO) from exc
    except BaseException:
        filt.release()
        raise
    return filt


def prepare_seccomp(profile: Seccomp, lib: scmp.Libseccomp | None = None) -> scmp.SeccompFilter:
    """Validate `profile` and build its filter without loading it; release it or `load_seccomp`.

    Call it before pivot_root: libseccomp.so.2 is loaded from the host's file system.
    """
    validate_seccomp(profile)
    return build_filter(lib or scmp.Libseccomp(), plan_seccomp(profile))


def load_seccomp(filt: scmp.SeccompFilter) -> None:
    """Load a prepared filter into the calling process, then release the context."""
    with filt:
        try:
            filt.load()
        except OSError as exc:
            raise KernelError("seccomp_load", "filter", exc.errno or errno.EIO) from exc


def install_seccomp(profile: Seccomp, lib: scmp.Libseccomp | None = None) -> None:
    """Validate `profile`, then load it as the calling process's seccomp filter.

    Without noNewPrivileges this needs CAP_SYS_ADMIN, so call it before dropping capabilities.
    """
    load_seccomp(prepare_seccomp(profile, lib))
