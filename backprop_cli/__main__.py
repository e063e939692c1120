"""`python -m backprop_cli`: the same command as the `backprop` script."""

from backprop_cli.launch import main

main()
