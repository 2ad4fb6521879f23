"""ocpikit.testing (see docs/architecture.md)."""
