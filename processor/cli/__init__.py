"""Command implementations behind ``python -m processor``; each module exposes ``run(args)``."""
