"""The ``privsynth`` command line."""
