"""dockyard: a daemonless Linux container engine with a built-in Compose."""

__version__ = "0.1.0"
