"""The compiled im2col is built, falls back to numpy with one warning, and rejects bad input clearly."""

import subprocess
import sys

import numpy as np
import pytest

from cs_lib import fast_im2col
from cs_lib.fast_layers import conv_forward_fast, max_pool_forward_fast


def test_the_compiled_extension_was_built_by_the_install():
    assert fast_im2col.BACKEND == "cython"


def test_without_the_extension_cs_lib_warns_once_and_still_computes_the_same():
    script = (
        "import sys, warnings, numpy as np\n"
        "sys.modules['cs_lib._im2col_cython'] = None\n"  # as if the extension had not been compiled
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from cs_lib import fast_im2col, fast_layers\n"
        "    import cs_lib.fast_im2col\n"
        "print(fast_im2col.BACKEND, len([w for w in caught if 'compiled im2col' in str(w.message)]))\n"
        "x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))\n"
        "w = np.random.default_rng(1).standard_normal((4, 3, 3, 2))\n"
        "out, _ = fast_layers.conv_forward_fast(x, w, np.zeros(4), {'stride': 2, 'pad': 1})\n"
        "np.save(sys.argv[1], out)\n"
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.npy"
        result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["numpy", "1"]
        x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
        w = np.random.default_rng(1).standard_normal((4, 3, 3, 2))
        expected, _ = conv_forward_fast(x, w, np.zeros(4), {"stride": 2, "pad": 1})
        np.testing.assert_allclose(np.load(path), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x": np.zeros((1, 1, 4, 4), dtype=np.int64)}, TypeError, "dtype int64"),
        ({"x": np.zeros((4, 4))}, ValueError, "4 dimensions"),
        ({"pad": -1}, ValueError, "pad must be zero or positive"),
        ({"stride": 0}, ValueError, "stride must be positive"),
        ({"stride": 3}, ValueError, "(7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer"),
        ({"HH": 9}, ValueError, "does not fit an input of height 7"),
        ({"stride": 1.5}, TypeError, "stride must be an integer"),
    ],
)
def test_im2col_rejects_bad_input_with_a_message_naming_the_problem(kwargs, error, message):
    args = {"x": np.zeros((1, 1, 7, 7)), "HH": 3, "WW": 3, "stride": 1, "pad": 0} | kwargs
    with pytest.raises(error, match=__import__("re").escape(message)):
        fast_im2col.im2col(args["x"], args["HH"], args["WW"], args["stride"], args["pad"])


def test_layers_name_mismatched_channels_and_missing_parameters():
    x = np.zeros((1, 3, 8, 8))
    with pytest.raises(ValueError, match="x has 3 channels but the filters"):
        conv_forward_fast(x, np.zeros((2, 4, 3, 3)), np.zeros(2), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="b must have shape"):
        conv_forward_fast(x, np.zeros((2, 3, 3, 3)), np.zeros(3), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="'stride' and 'pad'"):
        conv_forward_fast(x, np.zeros((2, 3, 3, 3)), np.zeros(2), {"stride": 1})
    with pytest.raises(ValueError, match="missing \\['pool_width'\\]"):
        max_pool_forward_fast(x, {"pool_height": 2, "stride": 2})


def test_im2col_then_matrix_product_is_a_convolution():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    cols = fast_im2col.im2col(x, 3, 2, stride=1, pad=1)
    out = (w.reshape(4, -1) @ cols).reshape(4, 2, 6, 6).transpose(1, 0, 2, 3)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros_like(out)
    for i in range(6):
        for j in range(6):
            window = padded[:, :, i : i + 3, j : j + 2]
            expected[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 7, 9))
    cols = fast_im2col.im2col(x, 3, 3, stride=2, pad=1)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * fast_im2col.col2im(c, x.shape, 3, 3, stride=2, pad=1))
    assert lhs == pytest.approx(rhs, rel=1e-12)
