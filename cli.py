"""Run the towerplan command line from a source checkout: ``python cli.py --help``."""

from towerplan.cli import main

if __name__ == "__main__":
    main()
