"""ocpikit.client (see docs/architecture.md)."""
