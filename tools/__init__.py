"""Developer tools that are not part of the pipeline (run from the project root)."""
