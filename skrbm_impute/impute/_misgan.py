"""MisGAN (Li, Jiang & Marlin 2019) as a scikit-learn imputer."""

import copy
import math
import os
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch

from .._numerics.misgan import (
    BETA_FORMS,
    CONV_IMAGE_SHAPE,
    MASK_TRANSFORMS,
    build_networks,
    make_optimizers,
    mask_data,
    reset_parameters,
    train_step,
)
from ..exceptions import SlowFitWarning
from ..utils._compat import StrOptions
from ..utils._validation import StrictInterval, check_random_seed
from ._misgan_budget import UNDERTRAINED_BELOW_BATCHES
from ._torch import RUNTIME_CONSTRAINTS, BaseTorchImputer

# Projected durations above this warn: ten minutes is far beyond what a test, a
# notebook cell or a quick benchmark expects, and short of the hours the default
# (conv, 500 epochs) costs on a CPU.
SLOW_FIT_SECONDS = 600.0
# Wall-clock seconds of training before the duration is projected, from the batches
# after the first (which pays one-off costs): short enough to warn within the first
# minute even for the conv networks (about 1.8 s per batch, several times that on a
# loaded machine).
PROBE_SECONDS = 5.0
# A first batch this slow is projected from alone, rather than waiting for a second.
FIRST_BATCH_SECONDS = 30.0
# Measured CPU seconds per batch of 64 MNIST digits, conv / fc (benchmarks/misgan_budget.py).
CONV_TO_FC_COST_RATIO = 20


def _clock():
    """Wall-clock seconds: the user waits in wall time (tests replace this)."""
    return time.perf_counter()


def _caller_stacklevel():
    """``warnings.warn``'s stacklevel of the first frame outside this package and
    scikit-learn (the user's ``fit`` call, however many wrappers are in between)."""
    import sklearn

    inside = (os.path.dirname(os.path.dirname(__file__)), os.path.dirname(sklearn.__file__))
    frame, level = sys._getframe(1), 1  # the frame of the caller of warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def _format_duration(seconds):
    """``"2 h 05 min"``, ``"12 min"`` or ``"45 s"``."""
    minutes = round(seconds / 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    if minutes >= 1:
        return f"{minutes} min"
    return f"{seconds:.0f} s"


class _DurationProbe:
    """Project a fit's duration from the wall time of its first seconds of batches.

    ``tick()`` is called after every batch and returns the projected total seconds
    once (else ``None``): as soon as ``PROBE_SECONDS`` have passed since training
    began, from the batches after the first (which pays one-off costs), or from
    the first batch alone if it takes ``FIRST_BATCH_SECONDS`` by itself.  A fit
    shorter than the probe is never projected.
    """

    def __init__(self, n_batches):
        self.n_batches = n_batches
        self.done = 0
        self.start = _clock()
        self.first_batch_end = None
        self.finished = False

    def tick(self):
        self.done += 1
        if self.finished:
            return None
        now = _clock()
        if self.done == 1:
            self.first_batch_end = now
            if now - self.start < FIRST_BATCH_SECONDS:
                return None
            per_batch = now - self.start
        elif now - self.start >= PROBE_SECONDS:
            per_batch = (now - self.first_batch_end) / (self.done - 1)
        else:
            return None
        self.finished = True
        return per_batch * self.n_batches


class MisGANImputer(BaseTorchImputer):
    """Impute images with MisGAN: a GAN of complete data, a GAN of masks, and an imputer.

    ``fit`` trains, from the incomplete data alone, a data generator G_x, a mask
    generator G_m, three WGAN-GP critics (data D_x, mask D_m, imputer D_i) and a
    fully connected imputer, exactly as the authors' released code (``src-torch1.6``)
    does for MNIST: each batch updates the three critics once; every ``n_critic``-th
    batch (counted across epochs) then updates G_m, G_x and the imputer once.
    ``transform`` feeds the observed pixels, with uniform noise in the holes, to the
    imputer and fills the holes with its output.

    Values must lie in [0, 1] (the generators end in a sigmoid).  Inside the
    networks the mask is 1 = observed and missing pixels are set to 0 before any
    product.

    Parameters
    ----------
    architecture : {"conv", "fc"}, default="conv"
        ``"conv"``: the authors' convolutional generators and critics, for 28x28
        images only (any other size raises a ``ValueError``).  ``"fc"``: fully
        connected generators (latent -> 256 -> 512 -> pixels) and critics
        (pixels -> 512 -> 256 -> 128 -> 1), for any image size and about 20 times
        cheaper on a CPU.  The imputer is fully connected either way: four layers as
        wide as the image (784-784 for MNIST), ReLU, sigmoid output.
    image_shape : tuple (height, width) or None, default=None
        Shape of one image; ``None`` means square images.  The fully connected
        networks ignore the layout, so with ``architecture="fc"`` and ``None`` any
        number of features is accepted (``image_shape_`` is then ``(1, n_features)``
        unless ``n_features`` is a perfect square).
    n_epochs : int, default=500
        Passes over the training data when ``max_iter`` is None: the paper's setting
        (the released script's default is 1000).  500 epochs of the paper's 50,000
        MNIST digits at batch 64 are about 390,000 batches: roughly 9 CPU-hours with
        ``"fc"`` and 200 with ``"conv"`` (see Notes), so on a CPU set ``max_iter``
        or use a GPU.
    max_iter : int or None, default=None
        The training budget in iterations, one iteration being one minibatch step of
        the training loop: the three critics are updated on every batch, the two
        generators and the imputer on every ``n_critic``-th.  ``None`` trains
        ``n_epochs`` full passes (``n_epochs * (n_samples // batch_size)`` batches).
        When set, it takes precedence and ``n_epochs`` is ignored: training runs
        exactly ``max_iter`` batches, drawing a new batch order for every pass over
        the data and stopping part-way through the last one, whatever the number
        of training images.  Below 4,000 batches MisGAN counts as undertrained
        (see Notes).
    batch_size : int, default=64
        Images per batch.  Incomplete last batches are dropped, as the authors do;
        with fewer than ``batch_size`` training images one batch of all of them is used.
    latent_size : int, default=128
        Size of the Gaussian latent codes of both generators.
    tau : float, default=0.0
        Value written into the missing pixels of the real and generated images that
        the data critic sees.
    alpha : float, default=0.1
        Weight of the data critic's loss in the mask generator's loss.
    beta : float, default=0.1
        Weight of the imputer term in the data generator's loss; see ``beta_form``.
    gamma : float, default=0.0
        Weight of an optional squared-error loss of the imputer's raw output on the
        observed pixels (0 = off, the authors' setting).
    beta_form : {"released", "paper"}, default="released"
        ``"released"`` reproduces the authors' code, where the beta term is the
        imputer's loss, which has no gradient path to G_x: **beta has no effect**
        and G_x trains as in plain MisGAN (this produced the published numbers).
        ``"paper"`` uses the paper's equation instead, adding
        ``beta * mean D_i(G_x(z))`` to G_x's loss so G_x is pulled towards the
        imputed data.
    mask_transform : {"fusion", "sigmoid", "hardsigmoid"}, default="fusion"
        Output transform of the mask generator at temperature ``mask_temperature``;
        ``"fusion"`` is ``clip(1.2 * sigmoid(a / T) - 0.1, 0, 1)``, which reaches
        exact 0 and 1.
    mask_temperature : float, default=0.66
        Temperature T of the mask transform.
    gp_lambda : float, default=10.0
        Weight of the WGAN-GP gradient penalty.
    n_critic : int, default=5
        Critic updates per generator and imputer update.
    learning_rate : float, default=1e-4
        Adam learning rate of both generators and their critics.
    imputer_learning_rate : float, default=2e-4
        Adam learning rate of the imputer and its critic.
    adam_betas : tuple (float, float), default=(0.5, 0.9)
        Adam's betas for every network.
    device : str or torch.device, default="cpu"
        Where to train and impute: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``"auto"``
        (CUDA when available); resolved into ``device_`` at ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds a local torch generator for the initial weights, batch order and all
        noise (never the global RNG).  ``transform`` of a fitted estimator is
        deterministic; :meth:`sample_imputations` draws imputations that differ only
        through the imputer's noise.
    verbose : int, default=0
        ``> 0`` shows a tqdm progress bar over the batches of the budget, with its
        rate and remaining time, and the three critics' last losses.

    Attributes
    ----------
    networks_ : torch.nn.ModuleDict
        The trained networks (``data_generator``, ``mask_generator``,
        ``data_critic``, ``mask_critic``, ``imputer_critic``, ``imputer``), on the CPU.
    device_ : torch.device
        The device used for training and imputation.
    image_shape_ : tuple (height, width)
        The resolved image shape.
    n_iter_ : int
        Number of batches trained on: ``max_iter``, or ``n_epochs`` times the
        batches per epoch.  Each critic was updated once per batch.
    n_generator_updates_ : int
        Number of updates of each generator and of the imputer:
        ``n_iter_ // n_critic`` (batches are counted across epochs).
    imputation_seed_ : int
        Seed of the noise image that ``transform`` uses.
    n_features_in_ : int
        Number of features (pixels) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    Raises
    ------
    FloatingPointError
        From ``fit`` when a weight of any network becomes non-finite (the message
        names the network, the epoch and the learning rates; smaller learning rates
        help), and from ``transform`` should the imputer's output overflow: NaN is
        never returned.

    Notes
    -----
    As in the authors' evaluation, one noise image ``omega ~ U(0, 1)`` is drawn per
    call and shared by all rows, so each row's imputation depends only on that row
    (subsets and reorderings give the same rows).  The imputer's raw output is
    composited with the observed pixels, which come back bit-identical.

    **Training budget.**  The paper trains 500 epochs of 50,000 MNIST digits at batch
    64: 500 x 50,000 / 64 = about 390,000 batches (78,000 generator and imputer
    updates).  One batch of 64 MNIST digits costs about 0.085 CPU-s with
    ``architecture="fc"`` and about 1.8 CPU-s with ``"conv"`` (one thread), so the
    paper's training is roughly 9 CPU-hours with ``"fc"`` and 200 with ``"conv"``,
    and the default ``MisGANImputer()`` on 5,000 digits (39,000 batches) about 20
    CPU-hours: a CPU cannot train MisGAN to the paper's quality within a benchmark.
    Measured on real MNIST at I.M. 0.6 (8,000 training digits, ``"fc"``, one
    thread, ``benchmarks/results/misgan_budget/README.md``), MisGAN's RMSE first
    falls below the Mean imputer's at 4,000 batches (RMSE / Mean 1.88 at 250
    batches, 1.01 at 1,000 and 3,000, 0.93 at 4,000, 0.86 and 0.95 at 6,000 and
    8,000): below 4,000 batches it counts as **undertrained**, its imputations no
    better than filling in the mean.
    ``max_iter`` sets the budget in batches whatever the data size; ``n_epochs``
    alone gives a small training set almost no updates (10 epochs of 1,000 digits
    are 150 batches).

    Within the first seconds of ``fit`` (``PROBE_SECONDS`` of batches after the
    first) the remaining time is projected from the measured seconds per batch;
    a projection over ``SLOW_FIT_SECONDS`` (10 minutes) emits a
    :class:`SlowFitWarning` naming the projection, the budget in batches and what
    shortens it (``architecture="fc"``, a smaller ``max_iter``, ``device="cuda"``).

    References
    ----------
    S. C.-X. Li, B. Jiang and B. Marlin, "MisGAN: Learning from Incomplete Data with
    Generative Adversarial Networks", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import MisGANImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(32, 16))
    >>> X[rng.uniform(size=X.shape) < 0.3] = np.nan
    >>> imputer = MisGANImputer(architecture="fc", n_epochs=1, batch_size=16,
    ...                         latent_size=8, random_state=0)
    >>> X_filled = imputer.fit_transform(X)
    >>> bool(np.isnan(X_filled).any())
    False
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions({"conv", "fc"})],
        "image_shape": [tuple, list, None],
        "n_epochs": [StrictInterval(Integral, 0, None, closed="left")],
        "max_iter": [StrictInterval(Integral, 1, None, closed="left"), None],
        "batch_size": [StrictInterval(Integral, 1, None, closed="left")],
        "latent_size": [StrictInterval(Integral, 1, None, closed="left")],
        "tau": [StrictInterval(Real, None, None, closed="neither")],
        "alpha": [StrictInterval(Real, 0, None, closed="left")],
        "beta": [StrictInterval(Real, 0, None, closed="left")],
        "gamma": [StrictInterval(Real, 0, None, closed="left")],
        "beta_form": [StrOptions(set(BETA_FORMS))],
        "mask_transform": [StrOptions(set(MASK_TRANSFORMS))],
        "mask_temperature": [StrictInterval(Real, 0, None, closed="neither")],
        "gp_lambda": [StrictInterval(Real, 0, None, closed="left")],
        "n_critic": [StrictInterval(Integral, 1, None, closed="left")],
        "learning_rate": [StrictInterval(Real, 0, None, closed="neither")],
        "imputer_learning_rate": [StrictInterval(Real, 0, None, closed="neither")],
        "adam_betas": [tuple, list],
        **RUNTIME_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        architecture="conv",
        image_shape=None,
        n_epochs=500,
        max_iter=None,
        batch_size=64,
        latent_size=128,
        tau=0.0,
        alpha=0.1,
        beta=0.1,
        gamma=0.0,
        beta_form="released",
        mask_transform="fusion",
        mask_temperature=0.66,
        gp_lambda=10.0,
        n_critic=5,
        learning_rate=1e-4,
        imputer_learning_rate=2e-4,
        adam_betas=(0.5, 0.9),
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.image_shape = image_shape
        self.n_epochs = n_epochs
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.latent_size = latent_size
        self.tau = tau
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.beta_form = beta_form
        self.mask_transform = mask_transform
        self.mask_temperature = mask_temperature
        self.gp_lambda = gp_lambda
        self.n_critic = n_critic
        self.learning_rate = learning_rate
        self.imputer_learning_rate = imputer_learning_rate
        self.adam_betas = adam_betas
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, missing):
        self.image_shape_ = self._resolve_layout(X.shape[1])
        if self.architecture == "conv" and self.image_shape_ != CONV_IMAGE_SHAPE:
            raise ValueError(
                'architecture="conv" is the authors\' network for 28x28 images, but '
                f'image_shape is {self.image_shape_}; use architecture="fc" for other sizes.'
            )
        if len(self.adam_betas) != 2 or not all(0 <= b < 1 for b in self.adam_betas):
            raise ValueError(
                f"adam_betas must be two numbers in [0, 1); got {self.adam_betas!r}."
            )
        self.device_ = self._fit_device()
        seed = self._fit_seed()
        generator = self._generator(seed, self.device_)
        networks = self._init_networks(X.shape[1], generator)
        self._train(networks, X, missing, generator)
        self.networks_ = networks.to("cpu")
        self.imputation_seed_ = seed

    def _resolve_layout(self, n_features):
        """``image_shape_``; "fc" ignores the layout, so any feature count is fine there."""
        if self.architecture == "fc" and self.image_shape is None:
            side = math.isqrt(n_features)
            return (side, side) if side * side == n_features else (1, n_features)
        return self._image_shape(n_features)

    def _init_networks(self, n_pixels, generator):
        with torch.device("meta"):  # skip torch's global-RNG init; drawn below
            networks = build_networks(
                self.architecture,
                n_pixels,
                self.latent_size,
                self.mask_transform,
                self.mask_temperature,
            )
        networks.to_empty(device=self.device_)
        reset_parameters(networks, generator)
        return networks

    def _train(self, networks, X, missing, generator):
        data, observed = self._to_tensors(X, missing)
        optimizers = make_optimizers(
            networks, self.learning_rate, self.imputer_learning_rate, self.adam_betas
        )
        n_samples = data.shape[0]
        batch_size = min(self.batch_size, n_samples)
        batches_per_epoch = n_samples // batch_size
        n_batches = self._training_budget(batches_per_epoch)
        n_epochs = -(-n_batches // batches_per_epoch)  # the last one may be partial
        options = dict(
            tau=self.tau, alpha=self.alpha, beta=self.beta, gamma=self.gamma,
            gp_lambda=self.gp_lambda, latent_size=self.latent_size, generator=generator,
            beta_form=self.beta_form,
        )
        self.n_iter_ = self.n_generator_updates_ = 0
        probe = _DurationProbe(n_batches)
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=n_batches, desc="MisGAN", unit="batch")
        try:
            for epoch in range(n_epochs):
                order = torch.randperm(n_samples, generator=generator, device=self.device_)
                batches = order[: batches_per_epoch * batch_size].view(-1, batch_size)
                for batch in batches[: n_batches - self.n_iter_]:
                    self.n_iter_ += 1
                    update_generators = self.n_iter_ % self.n_critic == 0
                    losses = train_step(
                        networks, optimizers, data[batch], observed[batch],
                        update_generators=update_generators, **options,
                    )
                    self.n_generator_updates_ += int(update_generators)
                    self._after_batch(networks)
                    projected = probe.tick()
                    if projected is not None and projected > SLOW_FIT_SECONDS:
                        self._warn_slow_fit(projected, n_batches, batches_per_epoch)
                    if progress is not None:
                        progress.update()
                self._check_finite(networks, epoch, n_epochs)
                if progress is not None:
                    progress.set_postfix(
                        D_x=f"{losses['data_critic']:.3f}",
                        D_m=f"{losses['mask_critic']:.3f}",
                        D_i=f"{losses['imputer_critic']:.3f}",
                    )
        finally:
            if progress is not None:
                progress.close()

    def _training_budget(self, batches_per_epoch):
        """Batches to train: ``max_iter``, or ``n_epochs`` full passes when it is None."""
        if self.max_iter is None:
            return self.n_epochs * batches_per_epoch
        return self.max_iter

    def _after_batch(self, networks):
        """Called after every training batch with the networks being trained.

        Does nothing; a subclass may override it to evaluate checkpoints within one
        run (``benchmarks/misgan_budget.py`` does), which draws no random numbers and
        so leaves the training itself unchanged.
        """

    def _warn_slow_fit(self, projected, n_batches, batches_per_epoch):
        """Tell the user, early, that this fit will take long and how to shorten it."""
        per_batch = projected / n_batches
        affordable = max(1, int(SLOW_FIT_SECONDS / per_batch))
        remedies = []
        if self.architecture == "conv":
            remedies.append(
                f'architecture="fc": about {CONV_TO_FC_COST_RATIO} times cheaper per batch '
                "on a CPU"
            )
        quality = (
            f"below {UNDERTRAINED_BELOW_BATCHES} batches MisGAN is undertrained, no "
            "better than the Mean imputer on MNIST"
        )
        remedies.append(
            f"max_iter={affordable}: about {_format_duration(SLOW_FIT_SECONDS)} at this "
            f"speed ({quality})"
        )
        if self.device_.type == "cpu":
            remedies.append('device="cuda": a GPU')
        budget = (
            f"{self.n_epochs} epochs x {batches_per_epoch} batches"
            if self.max_iter is None
            else f"max_iter={self.max_iter}"
        )
        numbered = " ".join(f"({i}) {remedy};" for i, remedy in enumerate(remedies, 1))
        warnings.warn(
            f"{type(self).__name__}.fit is projected to take {_format_duration(projected)}"
            f" on {self.device_}: {n_batches} batches ({budget}) at {per_batch:.3g} s per "
            f"batch, timed on the first batches. To shorten it: {numbered[:-1]}.",
            SlowFitWarning,
            stacklevel=_caller_stacklevel(),
        )

    def _check_finite(self, networks, epoch, n_epochs):
        """Stop with a clear error once a weight is NaN or infinite (a diverged GAN
        would otherwise fit "successfully" and impute NaN)."""
        for name, network in networks.items():
            if not all(bool(torch.isfinite(p).all()) for p in network.parameters()):
                raise FloatingPointError(
                    f"{type(self).__name__}: training produced non-finite weights in "
                    f"{name} in epoch {epoch + 1} of {n_epochs} (by batch {self.n_iter_}; "
                    f"learning_rate={self.learning_rate:g}, "
                    f"imputer_learning_rate={self.imputer_learning_rate:g}); use smaller "
                    "learning rates."
                )

    def _to_tensors(self, X, missing, device=None):
        """Observed pixels with 0 in the holes, and the 1 = observed float mask, on
        ``device`` (default: the training device ``device_``)."""
        data, missing_t = self._as_tensors(X, missing, self.device_ if device is None else device)
        return data, 1.0 - missing_t

    @torch.no_grad()
    def _impute_with_seed(self, X, missing, seed):
        device = self._transform_device()
        data, observed = self._to_tensors(X, missing, device)
        generator = self._generator(seed, device)
        noise = torch.rand(
            1, data.shape[1], generator=generator, device=device, dtype=data.dtype
        )
        imputer = self.networks_["imputer"]
        if device.type != "cpu":  # the fitted state stays on the CPU
            imputer = copy.deepcopy(imputer).to(device)
        raw = imputer(data, observed, noise)
        if not bool(torch.isfinite(raw).all()):
            raise FloatingPointError(
                f"{type(self).__name__}: the imputer network returned non-finite values "
                "(its weights are finite but its activations overflow); refit with smaller "
                "learning rates."
            )
        return mask_data(data, observed, raw).cpu().numpy()

    def _impute(self, X, missing):
        return self._impute_with_seed(X, missing, self.imputation_seed_)

    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw several imputations of ``X`` that differ only through the imputer's noise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for the missing entries.
        n_imputations : int, default=5
            Number of imputations (a positive integer, not a boolean).
        random_state : int, RandomState instance or None, default=None
            Seeds the noise images (one per imputation).

        Returns
        -------
        imputations : ndarray of shape (n_imputations, n_samples, n_features)
            Each with the observed entries of ``X`` bit-identical.
        """
        n_imputations = self._check_n_imputations(n_imputations)
        X, missing = self._check_transform_input(X)
        rng = np.random.RandomState(check_random_seed(random_state))
        imputations = np.repeat(X[None], n_imputations, axis=0)
        for imputation in imputations:
            values = self._impute_with_seed(X, missing, check_random_seed(rng))
            np.copyto(imputation, values.astype(X.dtype), where=missing)
        return imputations
