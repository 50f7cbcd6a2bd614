"""Instruction flags (`--name=value`), checked as buildkit's BFlags: known names, no duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field


class FlagError(ValueError):
    """A flag is unknown, repeated, or has a bad value."""


@dataclass
class Flags:
    """The flags given to one instruction; each getter marks a name as known."""

    keyword: str
    given: tuple[str, ...]
    known: set[str] = field(default_factory=set)

    def _values(self, name: str) -> list[str | None]:
        self.known.add(name)
        found: list[str | None] = []
        for flag in self.given:
            key, sep, value = flag[2:].partition("=")
            if key == name:
                found.append(value if sep else None)
        return found

    def string(self, name: str) -> str | None:
        """The value of a flag given at most once, or None when absent."""
        values = self._values(name)
        if len(values) > 1:
            raise FlagError(f"duplicate flag specified: --{name}; give it once")
        if not values:
            return None
        if values[0] is None:
            raise FlagError(f"missing a value on flag --{name}; write --{name}=VALUE")
        return values[0]

    def strings(self, name: str) -> tuple[str, ...]:
        """All values of a repeatable flag, in order."""
        values = self._values(name)
        if any(v is None for v in values):
            raise FlagError(f"missing a value on flag --{name}; write --{name}=VALUE")
        return tuple(v for v in values if v is not None)

    def boolean(self, name: str) -> bool:
        """A boolean flag: `--name`, `--name=true` or `--name=false`."""
        values = self._values(name)
        if len(values) > 1:
            raise FlagError(f"duplicate flag specified: --{name}; give it once")
        if not values or values[0] is None:
            return bool(values)
        if values[0].lower() in ("true", "false"):
            return values[0].lower() == "true"
        raise FlagError(f"expecting a boolean value for flag --{name}, not {values[0]!r}")

    def ignore_all(self) -> None:
        """Accept whatever was given without using it."""
        self.known.update(flag[2:].partition("=")[0] for flag in self.given)

    def check(self) -> None:
        """Raise for any flag this instruction does not know."""
        for flag in self.given:
            key = flag[2:].partition("=")[0]
            if key not in self.known:
                raise FlagError(f"unknown flag --{key} for {self.keyword}; remove it")
