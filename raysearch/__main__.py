"""``python -m raysearch <command>``: the same as the ``raysearch`` console command."""

from raysearch.cli import command_line

command_line()
