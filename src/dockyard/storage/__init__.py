"""dockyard.storage."""
