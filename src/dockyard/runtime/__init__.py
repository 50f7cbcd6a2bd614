"""dockyard.runtime."""
