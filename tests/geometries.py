"""Hypothesis strategies for convolution and pooling shapes that fit exactly (shared by the a3 tests)."""

from hypothesis import assume
from hypothesis import strategies as st


@st.composite
def conv_geometries(draw, max_filters=3, max_kernel=4, max_stride=3, max_pad=2, max_out=3):
    """(x shape, w shape, stride, pad) of a convolution whose filters fit exactly."""
    N, C, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, max_filters))
    HH, WW = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    stride, pad = draw(st.integers(1, max_stride)), draw(st.integers(0, max_pad))
    H_out, W_out = draw(st.integers(1, max_out)), draw(st.integers(1, max_out))
    H = (H_out - 1) * stride + HH - 2 * pad
    W = (W_out - 1) * stride + WW - 2 * pad
    assume(H >= 1 and W >= 1)
    return (N, C, H, W), (filters, C, HH, WW), stride, pad


@st.composite
def pool_geometries(draw, max_stride=3):
    """(x shape, pool_param) of a max pool whose windows fit exactly (they may overlap)."""
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    height, width, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, max_stride))
    H_out, W_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x_shape = (N, C, (H_out - 1) * stride + height, (W_out - 1) * stride + width)
    return x_shape, {"pool_height": height, "pool_width": width, "stride": stride}
