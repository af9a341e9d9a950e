"""The differential-privacy core: exact noise, mechanisms on private data, privacy
accounting, the persistent ledger and the privacy unit whose rows ε protects.

Everything that touches private data for a release goes through
:class:`~privsynth.dp.mechanisms.Mechanisms`, which charges a privacy filter before
drawing noise; generators and discovery never account for privacy themselves.
"""
