"""Import ``sample_dicom/generate.py`` (not a package) for tests that use its recipe."""

import importlib.util
import sys
from functools import cache
from types import ModuleType

from tests.conftest import SAMPLE_DICOM


@cache
def load_sample_generator() -> ModuleType:
    """Return the sample generator module, imported once, writing no ``__pycache__``."""
    spec = importlib.util.spec_from_file_location(
        "sample_generate", SAMPLE_DICOM / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ inside the sample folder
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module
