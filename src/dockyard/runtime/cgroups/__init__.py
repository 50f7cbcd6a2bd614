"""dockyard.runtime.cgroups."""
