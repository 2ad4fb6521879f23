"""ocpikit.core (see docs/architecture.md)."""
