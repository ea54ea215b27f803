"""`python -m grader` is `osgrade`."""

import sys

from .cli import main

sys.exit(main())
