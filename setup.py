"""Builds the Cython im2col extension during ``pip install -e .``.

The extension is optional: without a C compiler the install still succeeds and
``cs_lib`` falls back to a pure-numpy im2col (with one warning at import).
"""

import sys

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # pragma: no cover - Cython is a build requirement
    cythonize = None

extensions = [
    Extension(
        "cs_lib._im2col_cython",
        ["cs_lib/_im2col_cython.pyx"],
        extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
        optional=True,
    )
]

if cythonize is not None:
    extensions = cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )

setup(ext_modules=extensions)
