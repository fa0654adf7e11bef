"""Command-line tools of the project (run from the repository root: ``python -m tools.<name>``)."""
