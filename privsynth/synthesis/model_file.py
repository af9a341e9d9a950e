"""Saved models: a documented, versioned file that loading never executes.

A ``.privsynth`` file is a ZIP archive holding

* ``manifest.json``: ``format`` (``"privsynth-model"``), ``format_version``, the
  generator's name and JSON state, the completed public schema, the privacy record
  (dataset, ledger run id, target and spent (ε, δ), privacy unit, seeded or not), the
  sampling defaults, and an index of the arrays (member, dtype, shape);
* ``arrays/N.npy``: the generator's numeric arrays in NumPy's ``.npy`` format, read
  with ``allow_pickle=False`` (numbers only: no objects, so no code).

Everything in it is DP output (noisy measurements and what was derived from them) or
public (the declared schema): a fitted model holds no record and may be shared. The
format is documented in docs/models.md; a file of a newer ``format_version`` is
refused rather than misread.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.errors import InputDataError
from privsynth.generators.base import GeneratorState
from privsynth.io import atomic_path
from privsynth.schema import Schema
from privsynth.schema.io import schema_from_dict, schema_to_dict
from privsynth.synthesis.records import FitRecord

FORMAT = "privsynth-model"
FORMAT_VERSION = 1
#: the version written for a model with a text part (version 1 readers would drop it)
TEXT_FORMAT_VERSION = 2
_READABLE = (FORMAT_VERSION, TEXT_FORMAT_VERSION)
#: array names of the text part carry this prefix in the shared array index
_TEXT_ARRAYS = "text:"
SUFFIX = ".privsynth"
MANIFEST = "manifest.json"
#: a model file larger than this once unpacked is refused (a ZIP bomb, not a model)
MAX_UNPACKED_BYTES = 4 << 30
#: array element types a model may hold: booleans, integers and floats only
_NUMERIC_KINDS = frozenset("biuf")


@dataclass
class ModelFile:
    """The content of a saved model."""

    generator: str
    state: GeneratorState
    schema: Schema
    record: FitRecord
    #: sampling defaults: ``rows``, ``suppressed``, ``residual_scan``
    sampling: dict[str, Any]
    #: the text part: ``column``, ``condition_on`` and the text generator's state
    text: TextPartFile | None = None


@dataclass
class TextPartFile:
    """The saved text part of a model: where the text goes and the trained weights."""

    column: str
    condition_on: list[str]
    state: GeneratorState


def save_model(model: ModelFile, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically (an existing file is replaced only on success)."""
    final = Path(path)
    arrays = dict(model.state.arrays)
    if model.text is not None:
        arrays.update({_TEXT_ARRAYS + k: v for k, v in model.text.state.arrays.items()})
    index, members = _array_members(arrays)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if model.text is None else TEXT_FORMAT_VERSION,
        "generator": {"name": model.generator, "state": model.state.values},
        "schema": schema_to_dict(model.schema),
        "privacy": model.record.to_dict(),
        "sampling": model.sampling,
        "arrays": index,
    }
    if model.text is not None:
        manifest["text"] = {
            "column": model.text.column,
            "condition_on": model.text.condition_on,
            "state": model.text.state.values,
        }
    with (
        atomic_path(final) as temp,
        zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, allow_nan=False))
        for member, data in members.items():
            archive.writestr(member, data)
    return final


def _array_members(
    arrays: dict[str, npt.NDArray[Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
    index, members = {}, {}
    for number, (name, array) in enumerate(sorted(arrays.items())):
        values = np.ascontiguousarray(array)
        if values.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"array {name!r} is not numeric ({values.dtype})")
        member = f"arrays/{number}.npy"
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, values, allow_pickle=False)
        members[member] = buffer.getvalue()
        index[name] = {"member": member, "dtype": values.dtype.str, "shape": list(values.shape)}
    return index, members


def load_model(path: str | Path) -> ModelFile:
    """Read a saved model; anything that is not a well-formed model file of a known
    version is refused with a one-line error."""
    source = Path(path)
    if not source.is_file():
        raise InputDataError(f"model file {source} does not exist", hint="check the path")
    try:
        with zipfile.ZipFile(source) as archive:
            _check_size(archive, source)
            manifest = _manifest(archive, source)
            arrays = _arrays(archive, manifest.get("arrays"), source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise InputDataError(
            f"{source} is not a privsynth model file", hint="save one with Synthesizer.save"
        ) from None
    return _model(manifest, arrays, source)


def _check_size(archive: zipfile.ZipFile, source: Path) -> None:
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        raise InputDataError(f"{source} unpacks to more than 4 GiB: refused as a model file")


def _manifest(archive: zipfile.ZipFile, source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputDataError(
            f"{source} is not a privsynth model file", hint="save one with Synthesizer.save"
        )
    version = manifest.get("format_version")
    if version not in _READABLE:
        raise InputDataError(
            f"{source} is a model file of format version {version!r}; this privsynth "
            f"reads versions {', '.join(map(str, _READABLE))}",
            hint="load it with the privsynth version that saved it, or save it again",
        )
    return manifest


def _arrays(archive: zipfile.ZipFile, index: Any, source: Path) -> dict[str, npt.NDArray[Any]]:
    if not isinstance(index, dict):
        raise InputDataError(f"{source}: its array index is malformed")
    arrays = {}
    for name, entry in index.items():
        try:
            data = archive.read(str(entry["member"]))
            values = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
        except (KeyError, TypeError, ValueError):
            raise InputDataError(f"{source}: array {name!r} is missing or malformed") from None
        if values.dtype.kind not in _NUMERIC_KINDS or list(values.shape) != entry["shape"]:
            raise InputDataError(f"{source}: array {name!r} does not match its index")
        arrays[str(name)] = values
    return arrays


def _model(
    manifest: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], source: Path
) -> ModelFile:
    generator = manifest.get("generator")
    if not isinstance(generator, dict) or not isinstance(generator.get("state"), dict):
        raise InputDataError(f"{source}: its generator entry is malformed")
    sampling = manifest.get("sampling")
    tabular = {k: v for k, v in arrays.items() if not k.startswith(_TEXT_ARRAYS)}
    return ModelFile(
        generator=str(generator.get("name")),
        state=GeneratorState(generator["state"], tabular),
        text=_text_part(manifest.get("text"), arrays, source),
        schema=schema_from_dict(manifest.get("schema"), f"{source} (schema)", released=True),
        record=FitRecord.from_dict(manifest.get("privacy"), str(source)),
        sampling=sampling if isinstance(sampling, dict) else {},
    )


def _text_part(
    entry: Any, arrays: dict[str, npt.NDArray[Any]], source: Path
) -> TextPartFile | None:
    if entry is None:
        return None
    valid = isinstance(entry, dict) and isinstance(entry.get("state"), dict)
    if not valid or not isinstance(entry.get("column"), str):
        raise InputDataError(f"{source}: its text entry is malformed")
    conditions = entry.get("condition_on", [])
    if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
        raise InputDataError(f"{source}: its text entry is malformed")
    prefix = len(_TEXT_ARRAYS)
    text_arrays = {k[prefix:]: v for k, v in arrays.items() if k.startswith(_TEXT_ARRAYS)}
    return TextPartFile(entry["column"], conditions, GeneratorState(entry["state"], text_arrays))
