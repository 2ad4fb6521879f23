"""ocpikit.protocol (see docs/architecture.md)."""
