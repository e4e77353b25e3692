"""`python -m alexdb` runs the command line."""

from alexdb.cli.app import main

main()
