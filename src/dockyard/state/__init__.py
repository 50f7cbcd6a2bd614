"""dockyard.state."""
