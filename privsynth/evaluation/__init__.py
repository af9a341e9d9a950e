"""Evaluation and attacks: fidelity, utility, detection, diversity and privacy risks."""
