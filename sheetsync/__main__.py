"""``python -m sheetsync`` runs the command line."""

from sheetsync.cli import main

main()
