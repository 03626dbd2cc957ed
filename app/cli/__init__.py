"""The command line: ``worker``, ``migrate``, ``job`` and ``stats`` sub-commands."""
