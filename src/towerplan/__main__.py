"""``python -m towerplan``: same as the ``towerplan`` command."""

from towerplan.cli import main

if __name__ == "__main__":
    main()
