"""Compliance: policies as data, audits against them, and the HTML/JSON report."""
