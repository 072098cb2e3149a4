"""The bundle's entry point (PyInstaller runs this file as ``__main__``): the same ``main`` as the CLI."""

import sys

from cryptobots_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
