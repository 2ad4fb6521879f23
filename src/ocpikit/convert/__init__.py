"""ocpikit.convert (see docs/architecture.md)."""
