"""Training scripts for the models the package ships (see training/README.md)."""
