"""``python -m judgebias ...``: the judgebias command line (docs/cli.md), from the installed package."""
import sys

from . import _judgebias


def main() -> int:
    """Runs the command line on sys.argv and returns its exit status."""
    return _judgebias.main(["judgebias", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
