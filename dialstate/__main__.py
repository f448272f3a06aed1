"""`python -m dialstate`: the command line."""

from dialstate.cli import main

main()
