"""dockyard.cli."""
