"""`python -m backprop_cli`: the same command as the `backprop` script."""

from backprop_cli.cli import main

main(prog_name="backprop")
