"""`python -m pokegan ...` is the `pokegan` command (what `torchrun -m pokegan train ...` runs)."""
import sys

from pokegan.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
