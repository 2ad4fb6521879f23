"""``python -m ocpikit``: the ``ocpikit`` command."""

from __future__ import annotations

import sys

from ocpikit.cli.main import main

sys.exit(main())
