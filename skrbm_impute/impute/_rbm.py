"""RBM imputers: the masked RBM of ref [5] and the paper's Linearized Marginal RBM."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._numerics import rbm as core
from ..utils._compat import Interval, StrOptions
from ..utils._torch import make_generator, resolve_device
from ..utils._validation import check_random_seed
from ._base import BaseImputer
from ._mean import observed_mean
from ._rbm_posterior import _PosteriorSamplingMixin  # issue 13: posterior draws, knob




class _BaseRBMImputer(_PosteriorSamplingMixin, BaseImputer):
    """Shared training loop and imputation of the two RBM imputers.

    Subclasses set ``_marginal`` (``b_m`` in the hidden input) and implement
    ``_update_flags()`` -> ``(gradient_correction, observation_scaling)``.
    """

    _requires_unit_interval = True
    _marginal = False

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "rank": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "train_visible_factor": ["boolean"],
        "imputation": [StrOptions({"mean-field", "sample"})],
        "perception": [Interval(Real, 0, 1, closed="both"), None],  # issue 13
        "matmul_dtype": [StrOptions({"float32", "bfloat16"})],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _update_flags(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def _fit(self, X, missing):
        self.device_ = resolve_device(self.device)
        seed = check_random_seed(self.random_state)
        # Transform's local generator is seeded from this, so transform is deterministic.
        self._transform_seed = seed + 1
        generator = make_generator(seed, self.device_)
        gradient_correction, observation_scaling = self._update_flags()

        n_samples, n_features = X.shape
        observation_prob = 1.0 - missing.mean(axis=0)
        self.rank_ = self._resolve_rank(observation_prob, n_features)
        v_obs = torch.as_tensor(np.where(missing, 0.0, X), dtype=torch.float32)
        v_obs = v_obs.to(self.device_)
        missing_t = torch.as_tensor(missing, dtype=torch.float32).to(self.device_)
        lam = (
            torch.as_tensor(observation_prob, dtype=torch.float32).to(self.device_)
            if observation_scaling
            else None
        )
        means = observed_mean(X, missing, fill_value=0.5)
        basis = None
        if self.rank_ is not None:
            fill = torch.as_tensor(means, dtype=torch.float32).to(self.device_)
            basis = core.principal_directions(v_obs + fill * missing_t, self.rank_)
        visible_bias, hidden_bias, weights = core.init_parameters(
            means,
            self.n_components,
            generator=generator,
            dtype=torch.float32,
            device=self.device_,
            visible_basis=basis,
        )
        n_observed = max(int((~missing).sum()), 1)
        epochs = tqdm(
            range(self.n_epochs), disable=not self.verbose, desc=type(self).__name__
        )
        for epoch in epochs:
            order = torch.randperm(n_samples, generator=generator, device=self.device_)
            v_epoch, m_epoch = v_obs[order], missing_t[order]
            error = torch.zeros((), device=self.device_)
            for start in range(0, n_samples, self.batch_size):
                stop = start + self.batch_size
                error += core.cd1_step(
                    v_epoch[start:stop],
                    m_epoch[start:stop],
                    visible_bias,
                    weights,
                    hidden_bias,
                    learning_rate=self.learning_rate,
                    marginal=self._marginal,
                    gradient_correction=gradient_correction,
                    observation_prob=lam,
                    train_visible_factor=self.train_visible_factor,
                    matmul_dtype=getattr(torch, self.matmul_dtype),
                    generator=generator,
                )
            self._check_finite(visible_bias, hidden_bias, weights, epoch)
            if self.verbose:
                epochs.set_postfix(observed_mse=f"{error.item() / n_observed:.5f}")
        self.n_iter_ = self.n_epochs
        self._store(visible_bias, hidden_bias, weights)

    def _resolve_rank(self, observation_prob, n_features):
        """``None`` (full W) or the factorisation's rank."""
        if self.rank is None:
            return None
        if self.rank == "auto":
            rank = max(int(round(float(observation_prob.sum()))), 1)
        else:
            rank = int(self.rank)
        # A rank reaching min(n, m) does not restrict W: train the full matrix.
        return None if rank >= min(n_features, self.n_components) else rank

    def _check_finite(self, visible_bias, hidden_bias, weights, epoch):
        factors = weights if isinstance(weights, tuple) else (weights,)
        if not all(bool(torch.isfinite(t).all()) for t in (visible_bias, hidden_bias, *factors)):
            raise self._non_finite_error(epoch)

    def _non_finite_error(self, epoch):
        return FloatingPointError(
            f"{type(self).__name__}: training produced non-finite weights in epoch "
            f"{epoch + 1} of {self.n_epochs} (learning_rate={self.learning_rate:g}); "
            "use a smaller learning_rate."
        )

    def _store(self, visible_bias, hidden_bias, weights):
        """Fitted state as CPU NumPy arrays, so the estimator pickles without CUDA."""
        self.intercept_visible_ = visible_bias.cpu().numpy()
        self.intercept_hidden_ = hidden_bias.cpu().numpy()
        if isinstance(weights, tuple):
            self.visible_factor_ = weights[0].cpu().numpy()
            self.hidden_factor_ = weights[1].cpu().numpy()
        self.components_ = core.full_weights(weights).T.cpu().numpy()

    # ------------------------------------------------------------ transform
    def _weights(self, device):
        to = lambda a: torch.as_tensor(a).to(device)  # noqa: E731
        if self.rank_ is None:
            weights = to(self.components_).T
        else:
            weights = (to(self.visible_factor_), to(self.hidden_factor_))
        return to(self.intercept_visible_), weights, to(self.intercept_hidden_)

    def _tensors(self, X, missing, device):
        v_obs = torch.as_tensor(np.where(missing, 0.0, X), dtype=torch.float32).to(device)
        return v_obs, torch.as_tensor(missing, dtype=torch.float32).to(device)

    def _impute(self, X, missing):
        if self.perception is not None:  # issue 13: the perception knob
            return self._impute_at_perception(X, missing)
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad():
            values = core.impute(
                v_obs,
                missing_t,
                visible_bias,
                weights,
                hidden_bias,
                marginal=self._marginal,
                sample=self.imputation == "sample",
                generator=make_generator(self._transform_seed, device),
            )
        return values.cpu().numpy()

    def transform_hidden(self, X):
        """Hidden-unit probabilities given the observed entries of ``X``.

        ``P(h = 1 | v_o) = sigmoid((v ⊙ (1 - m) + b_m) W + c)`` with
        ``b_m = sigmoid(b) ⊙ m`` for the LM-RBM (Ê_o) and ``b_m = 0`` for ref [5]:
        the "RBM †" features the paper classifies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in [0, 1] with NaN for the missing entries.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Hidden probabilities, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        device = resolve_device(self.device)
        visible_bias, weights, hidden_bias = self._weights(device)
        v_obs, missing_t = self._tensors(X, missing, device)
        with torch.no_grad():
            hidden = core.hidden_probabilities(
                v_obs, missing_t, visible_bias, weights, hidden_bias, marginal=self._marginal
            )
        return hidden.cpu().numpy().astype(X.dtype, copy=False)

    def __setstate__(self, state):
        # skorch's rule: a model fitted on CUDA and loaded where there is none runs on the CPU.
        super().__setstate__(state)
        device = self.__dict__.get("device")
        if device is not None and device != "auto" and torch.device(device).type == "cuda":
            if not torch.cuda.is_available():
                warnings.warn(
                    f"{type(self).__name__} was saved with device={str(device)!r}, but CUDA "
                    "is not available here; computing on the CPU (device='cpu').",
                    UserWarning,
                )
                self.device = "cpu"


_COMMON_PARAMS_DOC = """
    n_components : int, default=4096
        Number of hidden units ``m``.
    n_epochs : int, default=500
        Passes over the training data (the paper's 500).
    batch_size : int, default=128
        Rows per CD-1 update.
    learning_rate : float, default=1e-4
        η of Algorithm 1.  The updates are **summed** over the batch, as in the
        paper; no momentum, no weight decay.  Short runs need a larger value (the
        package's quality benchmark uses 2e-3 for 30 epochs).
    rank : int, "auto" or None, default="auto"
        Rank ``r`` of the factorisation ``W = A B`` (``A`` is ``n x r``, ``B`` is
        ``r x m``).  ``"auto"`` is the paper's rule: the expected number of observed
        visible units per training row, rounded.  ``None`` trains a full ``W``; a rank
        of at least ``min(n_features, n_components)`` does too, since it restricts
        nothing.  Parameterisation (the paper is silent on it): ``A`` is the ``r``
        leading (uncentred) principal directions of the training data with holes
        filled by the observed means, kept **fixed**; ``B ~ N(0, 0.01²)`` learns by
        the chain rule ``ΔB = Aᵀ ΔW``.  The step on ``W`` is then ``A Aᵀ ΔW``, the
        full-rank step projected onto A's columns: as stable as a full ``W`` and, on
        MNIST, as fast (``benchmarks/rbm_rank_speed.py``).  Training ``A`` as well
        (``ΔA = ΔW Bᵀ``) diverged within an epoch at learning rates a full ``W``
        tolerates (its step on ``W`` grows with the factors), and a damped
        scaled-gradient step for both factors learnt far more slowly at I.M. 0.3.
    train_visible_factor : bool, default=False
        With a factorised ``W``, also train ``A`` by ``ΔA = ΔW Bᵀ`` (ref [5]'s Eq. 14
        rule, with both factors' steps taken from the old factors), starting from the
        same principal directions.  Off by default for the stability reason above; use
        a smaller ``learning_rate`` when it is on.
    imputation : {"mean-field", "sample"}, default="mean-field"
        ``"mean-field"`` fills each hole with its conditional expectation
        ``sigmoid(W p(h) + b)`` given the hidden probabilities: the low-distortion
        (RMSE) end of the trade-off, blurry where the data are uncertain.
        ``"sample"`` draws ``h`` and then 0/1 visible values: sharper, more
        "perceptual" (lower FID) completions at a higher RMSE.  Draws come from a
        local generator seeded at ``fit``, so ``transform`` is deterministic.
        Ignored when ``perception`` is set.
    perception : float in [0, 1] or None, default=None
        The perception-distortion knob (``None``: impute as ``imputation`` says).
        Each hole gets ``(1 - p) x̂_0 + p x̂_1``: ``x̂_0`` the mean-field pass (the
        low-distortion end; it measured a far lower RMSE than averaging clamped Gibbs
        samples), ``x̂_1`` one 0/1 draw of the clamped Gibbs chain of
        :meth:`sample_imputations`.  This is the interpolation of Freirich, Michaeli &
        Meir (NeurIPS 2021) between the minimum-MSE estimate and a perfect-perception
        one, with a posterior sample in the second role: for an exact posterior mean
        and sample its MSE is exactly ``(1 + p²)`` times the minimum, and it lies on
        the theory's boundary only where that sample is also the best
        perfect-perception estimator (not in general, not even for Gaussians, whose
        best one is a deterministic map of the posterior mean).  The draw is seeded at
        ``fit``, so ``transform`` is deterministic and every ``p`` moves each hole
        along the same straight line; tune ``p`` with ``GridSearchCV`` and the
        masked-RMSE and FID scorers of :mod:`skrbm_impute.metrics`.
    matmul_dtype : {"float32", "bfloat16"}, default="float32"
        Dtype of the training's matrix products.  ``"bfloat16"`` runs them about
        twice as fast on CPUs with AVX512-BF16 and on GPUs, with float32 parameters
        and float32 elementwise steps (the rounding of the products, ~0.4%, is far
        below the CD-1 sampling noise); inference is always float32.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where to compute; resolved at ``fit`` into ``device_``, and again at each
        ``transform`` (so ``set_params(device="cpu")`` moves inference to the CPU).
        Training runs in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds a local ``torch.Generator`` (initialisation, shuffling, Gibbs draws);
        the global torch seed is never touched.
    verbose : int, default=0
        Show a tqdm progress bar over epochs with the mean squared reconstruction
        error of the observed entries.
"""

_COMMON_ATTRIBUTES_DOC = """
    components_ : ndarray of shape (n_components, n_features)
        ``Wᵀ`` (as in :class:`sklearn.neural_network.BernoulliRBM`); ``(A B)ᵀ`` when
        factorised.
    visible_factor_, hidden_factor_ : ndarrays of shape (n_features, rank_), (rank_, n_components)
        ``A`` and ``B`` (only when ``rank_`` is not None).
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``b``.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``c``.
    rank_ : int or None
        The factorisation's rank, ``None`` for a full ``W``.
    device_ : torch.device
        The device training ran on.
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    Raises
    ------
    FloatingPointError
        From ``fit`` when a weight becomes non-finite (the message names the epoch);
        a smaller ``learning_rate`` helps.
"""


class MaskedRBMImputer(_BaseRBMImputer):
    __doc__ = (
        """Binary RBM trained on incomplete data, missing units absent (ref [5]).

    Salakhutdinov, Mnih & Hinton (2007): each row trains the RBM restricted to its
    observed visible units.  The hidden input is ``v_o W_o + c`` and only observed
    units get a gradient (Algorithm 1 of Cannella et al. without ``b_m`` and without
    lines 8-9).  Missing entries are filled with ``sigmoid(W h + b)`` given the
    observed ones.  Fitted values are stored on the CPU.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    LMRBMImputer : the Linearized Marginal RBM, which also trains the parameters of
        the missing units.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import MaskedRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = MaskedRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                            random_state=0)
    >>> np.isnan(imputer.fit_transform(X)).any()
    np.False_
    """
    )

    _marginal = False

    def __init__(
        self,
        *,
        n_components=4096,
        n_epochs=500,
        batch_size=128,
        learning_rate=1e-4,
        rank="auto",
        train_visible_factor=False,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.rank = rank
        self.train_visible_factor = train_visible_factor
        self.imputation = imputation
        self.perception = perception
        self.matmul_dtype = matmul_dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _update_flags(self):
        return False, False


class LMRBMImputer(_BaseRBMImputer):
    __doc__ = (
        """The Linearized Marginal RBM of Cannella et al. (Algorithm 1).

    The marginal energy of the observed units is linearised around ``W_m h = 0``,
    giving Ê_o, whose hidden input ``(v ⊙ (1 - m) + b_m) W + c`` with
    ``b_m = sigmoid(b) ⊙ m`` involves the parameters of the missing units too.
    Training is minibatch CD-1 on Ê_o with the gradient corrections of lines 8-9,
    scaled by each unit's observation probability λ in the training data.  Missing
    entries are filled from the hidden units conditioned under Ê_o.  Fitted values
    are stored on the CPU.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    gradient_correction : bool, default=True
        Lines 8 and 9 of Algorithm 1 (the gradient through ``b_m``).  False gives
        "Algorithm 1 without lines 8-9": the ``b_m`` term in the hidden input only.
    observation_scaling : bool, default=True
        Scale lines 8-9 by λ; False means λ = 1.

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    MaskedRBMImputer : ref [5], the RBM this one improves on.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import LMRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.binomial(1, 0.5, size=(50, 16)).astype(float)
    >>> X[rng.rand(50, 16) < 0.2] = np.nan
    >>> imputer = LMRBMImputer(n_components=8, n_epochs=2, learning_rate=0.01,
    ...                        random_state=0)
    >>> imputer.fit(X).transform_hidden(X).shape
    (50, 8)
    """
    )

    _marginal = True

    _parameter_constraints: dict = {
        **_BaseRBMImputer._parameter_constraints,
        "gradient_correction": ["boolean"],
        "observation_scaling": ["boolean"],
    }

    def __init__(
        self,
        *,
        n_components=4096,
        n_epochs=500,
        batch_size=128,
        learning_rate=1e-4,
        rank="auto",
        train_visible_factor=False,
        gradient_correction=True,
        observation_scaling=True,
        imputation="mean-field",
        perception=None,
        matmul_dtype="float32",
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.rank = rank
        self.train_visible_factor = train_visible_factor
        self.gradient_correction = gradient_correction
        self.observation_scaling = observation_scaling
        self.imputation = imputation
        self.perception = perception
        self.matmul_dtype = matmul_dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _update_flags(self):
        return self.gradient_correction, self.observation_scaling
