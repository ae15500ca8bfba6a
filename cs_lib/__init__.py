"""cs_lib: the course library for building image classifiers from scratch.

Provided infrastructure (complete): data loading (``cs_lib.datasets``),
gradient checking (``cs_lib.gradient_check``), the ``Solver``, plotting
(``cs_lib.vis``) and the compiled fast layers (``cs_lib.fast_layers``).
Starter stubs for everything students write live beside them; each says
what to implement and what to return.
"""

__version__ = "0.1.0"
