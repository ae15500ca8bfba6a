"""isolated_reference_module: a hidden part's reference net runs on reference layers only, never on the student's
code it judges (whatever the student's cs_lib.layers does, directly or through the provided layer_utils)."""

import numpy as np

from autograder.grading.trusted.reference import isolated_reference_module


def test_the_isolated_reference_net_ignores_the_student_layers_it_would_otherwise_import(monkeypatch):
    import cs_lib.layers

    def zeros(*args, **kwargs):
        raise AssertionError("the student's layer was called")

    for name in ("affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss"):
        monkeypatch.setattr(cs_lib.layers, name, zeros)
    fc_net = isolated_reference_module("cs_lib.classifiers.fc_net")
    net = fc_net.FullyConnectedNet([6, 5], input_dim=4, num_classes=3, weight_scale=0.5, seed=0)
    X, y = np.random.default_rng(0).standard_normal((7, 4)), np.array([0, 1, 2, 0, 1, 2, 0])
    loss, grads = net.loss(X, y)
    scores = X
    for layer in (1, 2):
        scores = np.maximum(0, scores @ net.params[f"W{layer}"] + net.params[f"b{layer}"])
    scores = scores @ net.params["W3"] + net.params["b3"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    expected = -np.mean(shifted[np.arange(7), y] - np.log(np.exp(shifted).sum(axis=1)))
    assert np.isclose(loss, expected + 0.5 * net.reg * sum(np.sum(net.params[f"W{k}"] ** 2) for k in (1, 2, 3)))
    assert set(grads) == set(net.params)
    assert fc_net.affine_relu_forward.__module__ == "_cs_isolated.cs_lib.layer_utils"
