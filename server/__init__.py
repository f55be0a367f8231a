"""The Dockyard daemon: pygls server, handlers, services and adapters."""

__version__ = "0.1.0"
