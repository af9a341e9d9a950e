"""Public domains: codecs, encoded tables and DP domain discovery."""

from privsynth.domain.codecs import CategoricalCodec, ColumnCodec, DatetimeCodec, NumericCodec
from privsynth.domain.table import EncodedTable, build_codecs, decode_table, encode_table

__all__ = [
    "CategoricalCodec",
    "ColumnCodec",
    "DatetimeCodec",
    "EncodedTable",
    "NumericCodec",
    "build_codecs",
    "decode_table",
    "encode_table",
]
