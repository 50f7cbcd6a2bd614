"""The build context: which files of the context directory are sent to the build."""

from dockyard.build.context.dockerignore import (
    IgnoreRule,
    Matcher,
    parse_dockerignore,
    read_dockerignore,
    walk_context,
)

__all__ = ["IgnoreRule", "Matcher", "parse_dockerignore", "read_dockerignore", "walk_context"]
