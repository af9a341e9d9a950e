"""E-mail addresses, validated offline against tldextract's bundled suffix list.

Presidio's ``EmailRecognizer`` accepts a match when ``tldextract.extract`` finds a
registrable domain in it. That is tldextract's process-wide extractor, which downloads
the public suffix list on first use; making it offline would change tldextract for
the whole program, the user's own code included. This subclass validates with a
private extractor on the bundled list instead, so nothing global changes and nothing
is downloaded. (Presidio's ``UrlRecognizer`` needs no such change: it matches a list
of top-level domains and validates nothing.)
"""

from __future__ import annotations

import functools
from typing import Any

import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer


@functools.cache
def offline_extractor() -> tldextract.TLDExtract:
    """A tldextract on its bundled public suffix list: no download, no disk cache."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer (same patterns, context, scores and name, so results
    and their order are unchanged) validating domains with :func:`offline_extractor`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", EmailRecognizer.__name__)
        super().__init__(**kwargs)

    def validate_result(self, pattern_text: str) -> bool:
        """Whether the match holds a registrable domain (``fqdn`` non-empty)."""
        return offline_extractor()(pattern_text).fqdn != ""
