"""PII detection and scrubbing for tables and free text (Presidio + spaCy + our own
recognizers for health identifiers), consistent surrogates and HIPAA Safe Harbor."""
