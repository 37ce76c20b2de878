"""The ``alertrouter`` command line: the parser, local commands, and a running service's client."""
