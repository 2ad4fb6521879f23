"""ocpikit.tariffs (see docs/architecture.md)."""
