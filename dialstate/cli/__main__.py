"""`python -m dialstate.cli`: the same as the `dialstate` script."""

from dialstate.cli import main

main()
