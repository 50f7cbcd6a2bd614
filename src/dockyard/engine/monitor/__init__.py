"""The container monitor: one process per engine root that parents running containers.

It holds their output pipes (json-file logs), records exits and OOM kills, applies restart
policies and healthchecks, and streams output to attached clients. It starts on demand and exits
when nothing is left to watch, so no daemon is always on.
"""
