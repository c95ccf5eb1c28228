"""``python -m korean_gan.cli``: the same as the ``korean-gan`` command."""

import sys

from korean_gan.cli import main

sys.exit(main())
