"""ocpikit.server (see docs/architecture.md)."""
