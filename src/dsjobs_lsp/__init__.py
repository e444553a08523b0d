"""dsjobs: DataSphere Jobs toolkit — language server, CLI, and an embedded local backend."""

__version__ = "0.1.0"
