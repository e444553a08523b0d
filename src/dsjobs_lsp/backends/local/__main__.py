"""``python -m dsjobs_lsp.backends.local``: run the local backend in the foreground."""

import sys

from . import main

sys.exit(main())
