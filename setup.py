"""Build the Cython kernels in cython_ext/: every .pyx there becomes an extension.

Adding a kernel is adding a file; nothing here needs editing.
"""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

_HERE = Path(__file__).parent
_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math"]

extensions = [
    Extension(f"cython_ext.{pyx.stem}", [str(pyx.relative_to(_HERE))], extra_compile_args=_FLAGS)
    for pyx in sorted((_HERE / "cython_ext").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level="3",
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
