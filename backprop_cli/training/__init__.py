"""`backprop train`: gradient descent on a program's output with respect to chosen inputs."""
