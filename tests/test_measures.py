"""Measures on hand-computed examples, NaN handling, and a comparison with neuralpredictors' estimators."""

import numpy as np
import pytest

from v1mtl.common import measures

# One neuron, 2 images x 2 repeats: image A -> 1, 3; image B -> 5, 7.
#   per-image variance (ddof=1): A: ((1-2)^2 + (3-2)^2) / 1 = 2; B: 2  -> noise variance 2
#   all trials 1, 3, 5, 7: mean 4, squared deviations 9 + 1 + 1 + 9 = 20 -> total variance 20 / 3
#   explainable variance = (20/3 - 2) / (20/3) = (14/3) / (20/3) = 0.7
HAND = np.array([[[1.0], [3.0]], [[5.0], [7.0]]])


def test_noise_total_and_explainable_variance_by_hand():
    assert measures.noise_variance(HAND) == pytest.approx([2.0])
    assert measures.total_variance(HAND) == pytest.approx([20.0 / 3.0])
    assert measures.explainable_variance(HAND) == pytest.approx([0.7])


def test_feve_by_hand():
    # Prediction = image means (2, 6): MSE = (1 + 1 + 1 + 1) / 4 = 1 -> FEVE = 1 - (1 - 2) / (14/3) = 17/14.
    assert measures.feve(HAND, np.array([[2.0], [6.0]])) == pytest.approx([17.0 / 14.0])
    # Constant 4: MSE = 20 / 4 = 5 -> FEVE = 1 - (5 - 2) / (14/3) = 5/14.
    assert measures.feve(HAND, np.array([[4.0], [4.0]])) == pytest.approx([5.0 / 14.0])
    # Prediction (0, 0): MSE = (1 + 9 + 25 + 49) / 4 = 21 -> FEVE = 1 - 19 / (14/3) = 1 - 57/14.
    assert measures.feve(HAND, np.zeros((2, 1))) == pytest.approx([1.0 - 57.0 / 14.0])


def test_oracle_corr_by_hand():
    # Leave-one-out partners: 1 <-> 3, 5 <-> 7, so x = (1, 3, 5, 7) and y = (3, 1, 7, 5); both have mean 4.
    # Deviations x: -3, -1, 1, 3; y: -1, -3, 3, 1; sum of products 12; sum of squares 20 each -> r = 0.6.
    assert measures.oracle_corr(HAND) == pytest.approx([0.6], abs=1e-6)


def test_corr_and_corr_to_average_by_hand():
    # (1, 2, 3) vs (1, 3, 2): deviations (-1, 0, 1) and (-1, 1, 0): products sum 1, squares sum 2 -> 0.5.
    assert measures.corr(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])) == pytest.approx(0.5, abs=1e-6)
    # Trial averages of 3 images x 2 repeats: (1, 2, 3); predicted (1, 3, 2) -> 0.5 again.
    responses = np.array([[0.0, 2.0], [1.0, 3.0], [3.0, 3.0]])[:, :, None]
    predictions = np.array([[1.0], [3.0], [2.0]])
    assert measures.corr_to_average(responses, predictions) == pytest.approx([0.5], abs=1e-6)
    # Single trials (0, 2, 1, 3, 3, 3) vs predictions repeated (1, 1, 3, 3, 2, 2): mean 2 and 2;
    # deviations (-2, 0, -1, 1, 1, 1) and (-1, -1, 1, 1, 0, 0): products 2 + 0 - 1 + 1 = 2;
    # squares 8 and 4 -> r = 2 / sqrt(32) = 0.35355.
    assert measures.single_trial_corr(responses, predictions) == pytest.approx(
        [2.0 / np.sqrt(32.0)], abs=1e-6
    )


def test_corr_of_a_constant_is_zero_not_nan():
    assert measures.corr(np.ones(5), np.arange(5.0)) == pytest.approx(0.0)


def test_nan_trials_are_ignored_not_zeroed():
    # The hand example padded with a third repeat that is NaN for every image gives the same numbers.
    padded = np.concatenate([HAND, np.full((2, 1, 1), np.nan)], axis=1)
    pred = np.array([[2.0], [6.0]])
    assert measures.explainable_variance(padded) == pytest.approx(measures.explainable_variance(HAND))
    assert measures.feve(padded, pred) == pytest.approx(measures.feve(HAND, pred))
    assert measures.oracle_corr(padded) == pytest.approx(measures.oracle_corr(HAND))
    assert measures.corr_to_average(padded, pred) == pytest.approx(measures.corr_to_average(HAND, pred))


def test_neurons_are_independent_columns():
    # A second neuron with NaN in one trial must not change the first neuron's values.
    second = np.array([[[2.0], [np.nan]], [[0.0], [4.0]]])
    both = np.concatenate([HAND, second], axis=2)
    pred = np.array([[2.0, 1.0], [6.0, 2.0]])
    assert measures.feve(both, pred)[0] == pytest.approx(17.0 / 14.0)
    assert measures.explainable_variance(both)[0] == pytest.approx(0.7)
    # Neuron 2: only image B has two repeats -> noise variance 8; trials 2, 0, 4 -> total variance 4.
    assert measures.noise_variance(both)[1] == pytest.approx(8.0)
    assert measures.total_variance(both)[1] == pytest.approx(4.0)


def test_matches_neuralpredictors_without_nan():
    np_functions = pytest.importorskip("neuralpredictors.measures.np_functions")
    rng = np.random.default_rng(0)
    means = rng.gamma(2.0, 1.0, size=(30, 1, 4))
    responses = rng.poisson(means, size=(30, 5, 4)).astype(float)
    predictions = means[:, 0, :] + rng.normal(0, 0.3, size=(30, 4))
    repeated = np.repeat(predictions[:, None, :], 5, axis=1)
    np.testing.assert_allclose(
        measures.feve(responses, predictions), np_functions.fev(responses, repeated), rtol=1e-10
    )
    np.testing.assert_allclose(
        measures.explainable_variance(responses), np_functions.explainable_var(responses, eps=0), rtol=1e-10
    )
    np.testing.assert_allclose(
        measures.oracle_corr(responses), np_functions.oracle_corr_jackknife(responses), rtol=1e-6
    )
    np.testing.assert_allclose(
        measures.corr(responses[:, 0], predictions, axis=0),
        np_functions.corr(responses[:, 0], predictions, axis=0),
        rtol=1e-10,
    )


def test_shape_errors():
    with pytest.raises(ValueError, match="images, repeats, neurons"):
        measures.explainable_variance(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="predictions"):
        measures.feve(np.zeros((3, 2, 4)), np.zeros((3, 5)))
