"""ocpikit.storage (see docs/architecture.md)."""
