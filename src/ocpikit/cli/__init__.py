"""The ``ocpikit`` command line: the composition root for people and scripts."""
