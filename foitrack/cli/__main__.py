"""`python -m foitrack.cli`: the same as the `foitrack` command."""

from foitrack.cli import main

main(prog_name="foitrack")
