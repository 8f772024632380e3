"""MisGAN (Li, Jiang & Marlin 2019) as a scikit-learn imputer."""

import copy
import math
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
from ..utils._compat import Interval, StrOptions
from ..utils._validation import check_random_seed
from ._torch import BaseTorchImputer


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
        Passes over the training data: the paper's setting (the released script's
        default is 1000).  That is days of CPU time for ``"conv"`` on 50,000 MNIST
        digits, so lower it on a CPU or use a GPU.
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
        ``> 0`` shows a tqdm progress bar over epochs with the three critics' last
        losses.

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
        Number of batches trained on (critic updates of each critic).
    n_generator_updates_ : int
        Number of generator and imputer updates.
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
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "latent_size": [Interval(Integral, 1, None, closed="left")],
        "tau": [Real],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "beta_form": [StrOptions(set(BETA_FORMS))],
        "mask_transform": [StrOptions(set(MASK_TRANSFORMS))],
        "mask_temperature": [Interval(Real, 0, None, closed="neither")],
        "gp_lambda": [Interval(Real, 0, None, closed="left")],
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "imputer_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "adam_betas": [tuple, list],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        architecture="conv",
        image_shape=None,
        n_epochs=500,
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
        n_batches = n_samples // batch_size
        options = dict(
            tau=self.tau, alpha=self.alpha, beta=self.beta, gamma=self.gamma,
            gp_lambda=self.gp_lambda, latent_size=self.latent_size, generator=generator,
            beta_form=self.beta_form,
        )
        self.n_iter_ = self.n_generator_updates_ = 0
        epochs = range(self.n_epochs)
        if self.verbose:
            from tqdm.auto import tqdm

            epochs = tqdm(epochs, desc="MisGAN", unit="epoch")
        for epoch in epochs:
            order = torch.randperm(n_samples, generator=generator, device=self.device_)
            for batch in order[: n_batches * batch_size].view(n_batches, batch_size):
                self.n_iter_ += 1
                update_generators = self.n_iter_ % self.n_critic == 0
                losses = train_step(
                    networks, optimizers, data[batch], observed[batch],
                    update_generators=update_generators, **options,
                )
                self.n_generator_updates_ += int(update_generators)
            self._check_finite(networks, epoch)
            if self.verbose:
                epochs.set_postfix(
                    D_x=f"{losses['data_critic']:.3f}",
                    D_m=f"{losses['mask_critic']:.3f}",
                    D_i=f"{losses['imputer_critic']:.3f}",
                )

    def _check_finite(self, networks, epoch):
        """Stop with a clear error once a weight is NaN or infinite (a diverged GAN
        would otherwise fit "successfully" and impute NaN)."""
        for name, network in networks.items():
            if not all(bool(torch.isfinite(p).all()) for p in network.parameters()):
                raise FloatingPointError(
                    f"{type(self).__name__}: training produced non-finite weights in "
                    f"{name} in epoch {epoch + 1} of {self.n_epochs} "
                    f"(learning_rate={self.learning_rate:g}, "
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
