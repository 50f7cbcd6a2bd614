"""The container engine: create/start/stop/rm/exec/logs/inspect, restart policies, healthchecks."""
