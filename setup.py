"""Builds the compiled parts of the package; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(f"fraudguard.features.{name}", [f"fraudguard/features/{name}.pyx"])
            for name in ("_memory_store", "_velocity_online")
        ],
        compiler_directives={"language_level": "3"},
    )
)
