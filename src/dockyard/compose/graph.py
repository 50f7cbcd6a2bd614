"""The service dependency graph: `depends_on`, `links` and `network_mode: service:x` edges,
checked for unknown targets and cycles, and the start order that follows from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.compose.errors import ComposeError
from dockyard.compose.model import Service


def dependencies(service: Service) -> list[str]:
    """The services `service` needs started first, in the order it names them."""
    out = [dep.service for dep in service.depends_on]
    out += [link.partition(":")[0] for link in service.links]
    mode = service.network_mode or ""
    if mode.startswith("service:"):
        out.append(mode[len("service:") :])
    return list(dict.fromkeys(out))


def check_references(services: Mapping[str, Service]) -> None:
    """Every dependency names a known service (the error names both services)."""
    for name, service in services.items():
        for target in dependencies(service):
            if target not in services:
                raise ComposeError(
                    f'service "{name}" depends on undefined service "{target}"; '
                    f"define it or fix the name",
                    path=("services", name),
                )


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as `[a, b, …, a]`, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and nxt in edges:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def start_order(services: Mapping[str, Service]) -> list[list[str]]:
    """Services in waves: each wave depends only on earlier ones (a wave may start in parallel).

    Raises `ComposeError` naming the cycle when there is one."""
    check_references(services)
    edges = {name: dependencies(service) for name, service in services.items()}
    cycle = find_cycle(edges)
    if cycle:
        raise ComposeError(
            f"dependency cycle: {' -> '.join(cycle)}; remove one of these dependencies",
            path=("services", cycle[0]),
        )
    done: set[str] = set()
    waves: list[list[str]] = []
    while len(done) < len(edges):
        wave = [n for n, deps in edges.items() if n not in done and set(deps) <= done]
        waves.append(wave)
        done.update(wave)
    return waves
