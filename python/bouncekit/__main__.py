"""``python -m bouncekit`` runs the command line."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while starting up: nothing was written yet
    print("bouncekit: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
