"""dockyard.image."""
