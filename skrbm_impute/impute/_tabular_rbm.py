"""An RBM imputer for ordinary tables: Gaussian units for real values, softmax units for
categories."""

import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from .._numerics import rbm_training
from .._numerics import tabular_rbm as core
from ..utils._compat import StrOptions, _get_container_adapter, validate_data
from ..utils._validation import StrictInterval, check_random_seed
from . import _tabular_table as table
from ._torch import (EARLY_STOPPING_CONSTRAINTS, RUNTIME_CONSTRAINTS, THREADS_CONSTRAINT,
                     BaseTorchImputer)

#: The clamped chain of ``sample_imputations``: steps before the first draw and between
#: two draws.
GIBBS_BURN_IN, GIBBS_THINNING = 50, 10
#: Burn-in of the chain whose conditional means ``imputation="chain-average"`` averages.
CHAIN_BURN_IN = 20
#: EM iterations of the Gaussian start of the linear units (``linear_init="gaussian"``).
GAUSSIAN_START_ITERATIONS = 50
#: Mean-field passes that impute the held-out entries of ``early_stopping``.
VALIDATION_PASSES = 10


@dataclass
class _Encoded:
    """A table as the model sees it.

    ``numeric`` holds the real-valued columns in the input's units (NaN = missing,
    float64 or float32), ``codes`` the category indices of the categorical columns
    (-1 = missing); ``frame`` is the validated input (for the output), ``index`` the
    DataFrame's index or None.
    """

    numeric: np.ndarray
    codes: np.ndarray
    source: object
    index: object
    float_input: bool

    @property
    def missing(self):
        """The missing mask in model order (real-valued columns first)."""
        return np.hstack([np.isnan(self.numeric), self.codes < 0])


class TabularRBMImputer(BaseTorchImputer):
    """RBM imputer for tables: Gaussian units for real values, softmax units for categories.

    A restricted Boltzmann machine with one Gaussian visible unit per real-valued
    column, one softmax group per categorical column and ``n_components`` binary hidden
    units, trained on the incomplete table itself.  Columns are standardised
    internally on their observed entries: pass raw values, get imputations in the
    input's units.  Missing entries (NaN; also ``None`` and ``pd.NA``) are filled
    with the model's estimate given each row's observed entries; observed entries come
    back bit-identical, and the input is never modified.

    Parameters
    ----------
    categorical_features : "from_dtype", None, array-like of int, bool or str, \
default="from_dtype"
        The categorical columns, as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`: ``"from_dtype"``
        takes the columns of pandas ``category`` dtype (none for a NumPy array);
        ``None`` none; otherwise their indices, a boolean mask over the features, or
        feature names (when fitted on a DataFrame).  A categorical column may hold any
        hashable values: numbers (codes), strings, a pandas categorical.  Each gets one
        softmax unit per category observed at ``fit`` (``categories_``).
    n_components : int, default=64
        Number of binary hidden units.
    n_linear_components : int or "auto", default="auto"
        Number of Gaussian ("linear") hidden units, of unit variance, beside the
        binary ones: they model the linear correlations between the columns (a
        Gaussian factor-analysis part), which binary units approximate only with many
        units.  ``"auto"``: one per real-valued column, a full-rank Gaussian part;
        0 gives the binary-hidden model alone.  Their weights on the real-valued
        columns are rescaled after every update so that the model stays a
        distribution (see Notes).
    linear_init : {"gaussian", "random"}, default="gaussian"
        How training starts the linear units, the real values' variances and biases.
        ``"gaussian"``: at the Gaussian that EM fits to the incomplete real-valued
        columns (its eigenvalues floored just above the variance floor), so that with
        the binary units off the model is that Gaussian, as nearly as
        ``n_linear_components`` units allow; ``"random"``: small random weights,
        σ² = 1, biases 0, as the binary units.  The EM's cost grows as rows ×
        columns³ (each row's conditional): for 2,000 rows, about 0.13 CPU-s per
        iteration with 30 real-valued columns and 2 CPU-s with 100, so its 50
        iterations dominate the fit of wide tables (about 100 CPU-s there).
    n_epochs : int, default=100
        Passes over the training rows (the most epochs with ``early_stopping``).
    batch_size : int, default=32
        Rows per update.
    learning_rate : float, default=1e-3
        Adam's step size.  Should a parameter become non-finite, training starts again
        with the rate divided by 10 and a
        :class:`~sklearn.exceptions.ConvergenceWarning`; ``learning_rate_`` holds the
        rate used.
    weight_decay : float, default=1e-4
        L2 cost ``weight_decay · ||W||² / 2`` on the weights.
    cd_steps : int, default=1
        Gibbs steps of the contrastive-divergence chain (CD-k).
    average_fraction : float in [0, 1), default=0.25
        Polyak averaging: the fitted parameters are the average of those after each of
        the last ``int(average_fraction * n_epochs)`` epochs (the mean of a noisy
        stochastic-EM trajectory imputes better than its last point); 0 keeps the last
        epoch's.  Not with ``early_stopping``, which keeps its best epoch's.
    learn_variance : bool, default=True
        Learn each Gaussian unit's variance (``log σ²``, floored at 0.05 in
        standardised units); False fixes σ² = 1.
    training_fill : {"sample", "mean-field"}, default="sample"
        How the training rows' missing entries take part: each row carries an
        imputation of its holes, refreshed before each update of its batch by a draw
        from the model given the row's other entries (``"sample"``, stochastic EM)
        or by their conditional means (``"mean-field"``).
    early_stopping : bool, default=False
        Hold out observed entries and stop when their imputation has stopped improving
        (scikit-learn's ``MLPClassifier`` rule): in ``validation_fraction`` of the rows
        half of the observed entries are held out of training; after each epoch they
        are imputed by mean-field passes and scored by minus the root of the mean
        held-out loss (squared error in standardised units for real values,
        misclassification for categories), in ``validation_scores_``.  Training stops
        after ``n_iter_no_change`` epochs each below the best score plus ``tol``, and
        keeps the best epoch's parameters.
    validation_fraction : float in (0, 1), default=0.1
        With ``early_stopping``: share of the rows holding validation entries.
    n_iter_no_change : int, default=10
        With ``early_stopping``: epochs without improvement that stop training.
    tol : float, default=1e-4
        With ``early_stopping``: the score increase that counts as an improvement.
    imputation : {"chain-average", "mean-field"}, default="chain-average"
        How ``transform`` fills a hole.  ``"chain-average"``: a Gibbs chain with the
        observed entries clamped runs ``20`` burn-in steps, then
        ``n_imputation_steps`` steps whose conditional means ``E[v_m | h]`` are
        averaged (Rao-Blackwellised: the mean given each step's hidden state rather
        than its draw); an estimate of the posterior mean ``E[v_m | v_o]``.
        ``"mean-field"``: ``n_imputation_steps`` deterministic passes
        ``v_m ← E[v_m | E[h | v]]`` starting at the column means.  Real values take
        the estimate; a categorical entry takes its most probable category.
    n_imputation_steps : int, default=100
        Steps averaged (``"chain-average"``) or passes (``"mean-field"``).
    n_threads : int, "auto" or None, default=1
        The CPU thread count of torch during ``fit`` and ``transform`` (restored
        afterwards).  One by default: the model is small, and more threads only add
        synchronisation to its small matrix products.  ``"auto"`` uses the idle cores,
        ``None`` leaves torch's setting.
    device : {"cpu", "cuda", "cuda:<index>", "auto"} or torch.device, default="cpu"
        Where to train and impute; resolved at ``fit`` (``device_``) and again at each
        ``transform``.
    random_state : int, RandomState instance or None, default=None
        Seeds the local torch generator of ``fit`` (and, through ``fit``, of
        ``transform``): the same seed gives the same output.
    verbose : int, default=0
        Show a progress bar with the reconstruction error of the observed real values.

    Attributes
    ----------
    is_categorical_ : ndarray of bool of shape (n_features,)
        Which columns are categorical.
    categories_ : list of ndarray
        The categories of each categorical column, in column order (float arrays for
        numeric categories, object arrays otherwise).
    mean_ : ndarray of shape (n_features,)
        The observed mean of each real-valued column (NaN for the categorical ones).
    scale_ : ndarray of shape (n_features,)
        The observed standard deviation of each real-valued column (1 where it is 0 or
        undefined; NaN for the categorical ones).
    components_ : ndarray of shape (n_components, n_visible)
        ``Wᵀ`` of the binary hidden units; the visible units are the real-valued
        columns, then one unit per category of each categorical column.
    linear_components_ : ndarray of shape (n_linear, n_visible)
        ``Wᵀ`` of the linear hidden units (``n_linear`` is ``n_linear_components``, or
        the number of real-valued columns for ``"auto"``).
    intercept_visible_ : ndarray of shape (n_visible,)
        ``b``.
    intercept_hidden_ : ndarray of shape (n_components,)
        ``c`` of the binary hidden units (the linear units' are 0).
    variance_ : ndarray of shape (n_numeric,)
        ``σ²`` of the Gaussian units, in standardised units.
    n_iter_ : int
        Epochs run.
    learning_rate_ : float
        The learning rate of the final training (smaller than ``learning_rate`` after
        a divergence).
    validation_scores_ : list of float or None
        With ``early_stopping``, the score of each epoch.
    best_validation_score_ : float or None
        With ``early_stopping``, the best of them.
    device_ : torch.device
        Where ``fit`` trained.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    See Also
    --------
    sklearn.impute.IterativeImputer : Round-robin regression of each column on the
        others.
    sklearn.impute.KNNImputer : Mean of the nearest rows.
    MaskedRBMImputer : Binary RBM for [0, 1] images.

    Notes
    -----
    **Model.**  Energy ``E(v, h) = Σ_i (v_i - b_i)²/(2σ_i²) - Σ_i (v_i/σ_i²) W_i h
    - Σ_ck v_ck (b_ck + W_ck h) - cᵀh`` over the standardised real values ``v_i`` and
    the one-hot categories ``v_ck``: ``p(v_i | h) = N(b_i + W_i h, σ_i²)``,
    ``p(v_c = k | h) = softmax_k(b_ck + W_ck h)``, ``p(h_j = 1 | v) =
    sigmoid(c_j + Σ_i (v_i/σ_i²) W_ij + Σ_ck v_ck W_ckj)``.  With
    ``n_linear_components`` the hidden layer also holds real-valued units ``h_g``
    whose energy adds ``h_g²/2`` (and no bias): ``p(h_g | v) = N(Σ_i (v_i/σ_i²) W_ig
    + Σ_ck v_ck W_ckg, 1)``, and ``p(v | h)`` takes both kinds of units.  Integrated
    out, they give the real values a Gaussian factor of precision ``D⁻¹ - D⁻¹ W_L
    W_Lᵀ D⁻¹`` (``D = diag σ²``, ``W_L`` their weights on the real-valued columns),
    positive definite only while ``‖D^{-1/2} W_L‖₂ < 1``: after every update (and
    after the averaging) ``W_L`` is rescaled to keep that norm at most 0.999 (which
    lets the variance along a direction reach about 500 times σ², as near-collinear
    columns need).  Given the binary units and the categories the real values are
    then Gaussian with that precision, and every clamped chain (the training fills,
    ``transform``'s chain average, :meth:`sample_imputations`) draws the missing real
    values from that Gaussian's conditional on the observed ones, the linear units
    integrated out: along strong correlations the plain sweep through ``h_g`` would
    mix slowly.

    **Start.**  With ``linear_init="gaussian"`` EM first fits a Gaussian to the
    incomplete real-valued columns (standardised; 50 iterations; eigenvalues floored
    at 1.01 × 0.05, inside the variance floor), and the linear weights, the common σ²
    (the smallest eigenvalue) and the real values' biases are set so that, the binary
    units off, the model is that Gaussian: with ``n_linear_components="auto"``
    exactly, with fewer units along its leading directions.  Training then moves
    every parameter from there.

    **Training.**  Stochastic EM: the holes of each training row carry an imputation
    that is redrawn from the model given the row's other entries before each update
    (``training_fill``); the update is CD-k (``cd_steps``) on the completed rows, by
    Adam; the fitted parameters are averaged over the last quarter of the epochs
    (``average_fraction``).  The defaults were chosen on real tables (standardised,
    30 % of the cells hidden, seeds 100-102, RMSE on the holes over mean
    imputation's, geometric mean over tables; ``benchmarks/results/tabular_training``).
    One lever at a time from CD-5, 100 epochs, learning rate 1e-2, on wine,
    diabetes, iris and penguins (MCAR / MAR): that base .717 / .704; CD-1 .720 /
    .707; Polyak averaging of the last 25 % of the epochs .711 / .701, with CD-1
    .707 / .701 (the defaults; KNN .786 / .770, ICE .739 / .729 on these four);
    averaging 50 % .705 / .716.  Worse: mean-field fills instead of stochastic EM
    (.725 / .744), σ² fixed at 1 (.807 / .808), 32 or 128 hidden units (.731 / .734,
    .725 / .719), early stopping on held-out entries (.911 / .909: it stops too
    early); weight decay 0 or 1e-3 within .004.  300 epochs at 1e-2 were worse on
    breast_cancer and concrete; 300 epochs at 3e-3 with CD-5 (the first defaults)
    were .01 better than the 100-epoch base in a one-seed MCAR pilot at 3.5 times
    the time.  The chain average beats the mean-field imputation by .005-.02.
    Then, on all eleven tables of the benchmark (their real-valued columns), 8 linear
    hidden units (``n_linear_components``, the default then) gave .654 (MCAR) / .656
    (MAR) against .667 / .678 with binary units only, 4 gave .654 / .653, 16 .659 / .663
    (:class:`~sklearn.impute.KNNImputer` .708 / .680,
    :class:`~sklearn.impute.IterativeImputer` with BayesianRidge .656 / .629 on the
    same masks; at 10 % of the cells 8 units gave .586 / .580 against .600 / .597):
    better on crabs, college, auto and breast_cancer, worse on iris and
    wine, still far behind the linear iterative imputer on breast_cancer and on the
    zero-inflated concrete.  In the benchmark (seeds 0-4, eleven tables, categories
    native; ``benchmarks/results/tabular_benchmark``) those 8 units gave .570 / .632 /
    .721 (MCAR at 10 / 30 / 50 %) and .552 / .622 / .709 (MAR), against KNN's .580 /
    .739 / .855 and .557 / .626 / .687 and BayesianRidge ICE's .509 / .631 / .738 and
    .513 / .595 / .664 (binary units only: .584 / .648 / .737 and .572 / .635 /
    .726).  Then (the same eleven tables, seeds 100-102, 30 % / 10 % of the cells;
    ``benchmarks/results/tabular_training/gaussian_start.csv``): the Gaussian start
    with one linear unit per real-valued column and the learning rate at 1e-3 (the
    defaults since) gave .620 / .614 at 30 % (MCAR / MAR) and .567 / .553 at 10 %,
    against .654 / .656 and .586 / .580 for the 8 randomly started linear units and
    BayesianRidge ICE's .656 / .629 and .551 / .564; at learning rates 3e-3 and 1e-2
    .628 / .618 and .635 / .633 (training moves away from the start); drawing the
    real values with the linear units integrated out, alone, changed nothing (.659 /
    .656); a variance floor of 0.01 instead of 0.05 was worse (.663 / .655).  In the
    benchmark the defaults give .524 / .591 / .682 (MCAR) and .527 / .589 / .669
    (MAR): below KNN everywhere, below BayesianRidge ICE at 30 % and at 50 % MCAR,
    behind it at 10 % and (by .005) at 50 % MAR.  A fit takes a few seconds per
    table of up to 1,000 rows on one thread (1.0-11 CPU-s on these tables).  The
    linearized marginal of
    :class:`LMRBMImputer` adds nothing here: for a Gaussian unit ``b_m`` is the
    unit's mean with every hidden unit off, and centring the columns already puts a
    zero fill at the column mean.

    **Output types.**  Without categorical columns, or when every category is a
    number, ``transform`` returns a float array (float32 input stays float32).  When
    some category is not a number (strings), it returns an object array holding the
    floats of the real-valued columns and the categories.  With
    ``set_output(transform="pandas")`` it returns a DataFrame whose categorical
    columns are pandas categoricals (the input's ``category`` dtype for such
    columns, else the categories of ``categories_``).  An observed category at
    ``transform`` that ``fit`` never saw raises a ValueError: replacing it would break
    the guarantee that observed entries come back unchanged.

    **No perception knob.**  Unlike the image RBMs this imputer has no
    ``perception`` parameter: a blend of an estimate and a sample is not a category,
    and draws from the model's conditional are what :meth:`sample_imputations` gives.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import TabularRBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3)) * [1.0, 10.0, 100.0]
    >>> X[rng.rand(60, 3) < 0.2] = np.nan
    >>> imputer = TabularRBMImputer(n_components=8, n_epochs=5, random_state=0)
    >>> np.isnan(imputer.fit_transform(X)).any()
    np.False_
    """

    _requires_unit_interval = False
    _transform_parameters = ("imputation", "n_imputation_steps", "n_threads", "device")

    _parameter_constraints: dict = {
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "n_components": [StrictInterval(Integral, 1, None, closed="left")],
        "n_linear_components": [StrictInterval(Integral, 0, None, closed="left"),
                                StrOptions({"auto"})],
        "linear_init": [StrOptions({"gaussian", "random"})],
        "n_epochs": [StrictInterval(Integral, 0, None, closed="left")],
        "batch_size": [StrictInterval(Integral, 1, None, closed="left")],
        "learning_rate": [StrictInterval(Real, 0, None, closed="neither")],
        "weight_decay": [StrictInterval(Real, 0, None, closed="left")],
        "cd_steps": [StrictInterval(Integral, 1, None, closed="left")],
        "average_fraction": [StrictInterval(Real, 0, 1, closed="left")],
        "learn_variance": ["boolean"],
        "training_fill": [StrOptions({"sample", "mean-field"})],
        **EARLY_STOPPING_CONSTRAINTS,
        "imputation": [StrOptions({"chain-average", "mean-field"})],
        "n_imputation_steps": [StrictInterval(Integral, 1, None, closed="left")],
        **THREADS_CONSTRAINT,
        **RUNTIME_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        categorical_features="from_dtype",
        n_components=64,
        n_linear_components="auto",
        linear_init="gaussian",
        n_epochs=100,
        batch_size=32,
        learning_rate=1e-3,
        weight_decay=1e-4,
        cd_steps=1,
        average_fraction=0.25,
        learn_variance=True,
        training_fill="sample",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        imputation="chain-average",
        n_imputation_steps=100,
        n_threads=1,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.categorical_features = categorical_features
        self.n_components = n_components
        self.n_linear_components = n_linear_components
        self.linear_init = linear_init
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.cd_steps = cd_steps
        self.average_fraction = average_fraction
        self.learn_variance = learn_variance
        self.training_fill = training_fill
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.imputation = imputation
        self.n_imputation_steps = n_imputation_steps
        self.n_threads = n_threads
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ input
    def _validate_input(self, X, *, reset):
        """``(encoded, missing)``: the table read, encoded, checked against ``fit``."""
        X = table.check_2d(X)
        validate_data(self, X, reset=reset, skip_check_array=True)
        name = type(self).__name__
        if reset:
            self.is_categorical_ = table.resolve_categorical(
                self.categorical_features, X, X.shape[1],
                getattr(self, "feature_names_in_", None), name)
        categorical = self.is_categorical_
        numeric_columns = np.flatnonzero(~categorical)
        float_input = not table.is_dataframe(X) and X.dtype.kind in "fiub"
        if float_input:  # every column a number: one float array, categories as codes
            values = table.numeric_part(X, np.arange(X.shape[1]))
            source, numeric = values, values[:, numeric_columns]
        else:
            source, numeric = X, table.numeric_part(X, numeric_columns)
        columns = [table.categorical_values(table.column(source, j), self._name(j), name)
                   for j in np.flatnonzero(categorical)]
        if reset:
            self._learn_categories(X, columns)
        codes = np.empty((numeric.shape[0], len(columns)), dtype=np.int64)
        for c, (j, (values, missing)) in enumerate(zip(np.flatnonzero(categorical),
                                                       columns)):
            codes[:, c] = table.encode(values, missing, self.categories_[c], self._name(j),
                                       name)
        encoded = _Encoded(numeric, codes, source,
                           X.index if table.is_dataframe(X) else None, float_input)
        return encoded, encoded.missing

    def _name(self, j):
        names = getattr(self, "feature_names_in_", None)
        return str(names[j]) if names is not None else int(j)

    def _learn_categories(self, X, columns):
        dtypes = list(X.dtypes) if table.is_dataframe(X) else [None] * X.shape[1]
        self.categories_, self._output_dtypes = [], []
        for j, (values, missing) in zip(np.flatnonzero(self.is_categorical_), columns):
            if missing.all():
                raise ValueError(
                    f"{type(self).__name__}: the categorical feature {self._name(j)!r} has "
                    "no observed value in fit; drop it or do not mark it categorical.")
            categories = table.learn_categories(values, missing, dtypes[j])
            self.categories_.append(categories)
            self._output_dtypes.append(
                dtypes[j] if isinstance(dtypes[j], pd.CategoricalDtype)
                else pd.CategoricalDtype(categories))

    # -------------------------------------------------------------------- fit
    def _fit(self, encoded, missing):
        device = self._fit_device()
        seed = self._fit_seed()
        generator = self._generator(seed, device)
        n_numeric = encoded.numeric.shape[1]
        self._standardisation(encoded.numeric)
        self._frequencies = self._category_frequencies(encoded.codes)
        layout = self._layout(device)
        v, missing_units = self._visible(encoded, layout, device)
        with torch.no_grad(), self._threads():
            params, stopping = self._train(v, missing_units, encoded, layout, generator,
                                           seed)
        self.device_ = device
        self._transform_seed = seed + 1
        self.intercept_visible_ = params.visible_bias.detach().cpu().numpy()
        weights = params.weights.detach().T.cpu().numpy()
        self.components_ = weights[:params.n_binary]
        self.linear_components_ = weights[params.n_binary:]
        self.intercept_hidden_ = params.hidden_bias.detach().cpu().numpy()[:params.n_binary]
        self.variance_ = np.exp(params.log_var.detach().cpu().numpy())[:n_numeric]
        self.validation_scores_ = None if stopping is None else list(stopping.scores)
        self.best_validation_score_ = (None if stopping is None or not stopping.scores
                                       else stopping.best_score)

    def _standardisation(self, numeric):
        observed = ~np.isnan(numeric)
        counts = observed.sum(0)
        filled = np.where(observed, numeric, 0.0).astype(np.float64)
        mean = np.divide(filled.sum(0), counts, out=np.zeros(numeric.shape[1]),
                         where=counts > 0)
        centred = np.where(observed, filled - mean, 0.0)
        std = np.sqrt(np.divide(np.square(centred).sum(0), counts,
                                out=np.zeros(numeric.shape[1]), where=counts > 0))
        std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.mean_ = np.full(self.n_features_in_, np.nan)
        self.scale_ = np.full(self.n_features_in_, np.nan)
        self.mean_[~self.is_categorical_] = mean
        self.scale_[~self.is_categorical_] = std

    def _layout(self, device):
        n_numeric = int((~self.is_categorical_).sum())
        return core.VisibleLayout.build(n_numeric, [len(c) for c in self.categories_],
                                        device)

    def _category_frequencies(self, codes):
        """Observed frequency of each category (at ``fit``; kept for ``transform``'s
        starting fill)."""
        parts = []
        for c, categories in enumerate(self.categories_):
            counts = np.bincount(codes[codes[:, c] >= 0, c], minlength=len(categories))
            parts.append(counts / max(counts.sum(), 1))
        return np.concatenate(parts) if parts else np.zeros(0)

    def _visible(self, encoded, layout, device):
        """``(v, missing_units)``: the standardised rows with holes at the column means
        (category frequencies), and the unit-level missing mask."""
        numeric_columns = ~self.is_categorical_
        z = (encoded.numeric - self.mean_[numeric_columns]) / self.scale_[numeric_columns]
        numeric_missing = np.isnan(z)
        z = torch.as_tensor(np.where(numeric_missing, 0.0, z), dtype=torch.float32)
        codes = torch.as_tensor(encoded.codes)
        frequencies = torch.as_tensor(self._frequencies, dtype=torch.float32)
        blocks = layout.one_hot(codes.to(device)).cpu()
        missing_units = layout.expand_missing(
            torch.as_tensor(numeric_missing).to(device), (codes < 0).to(device))
        blocks = torch.where(missing_units[:, layout.n_numeric:].cpu(), frequencies, blocks)
        v = torch.cat([z, blocks], dim=1).to(device)
        return v, missing_units

    def _train(self, v, missing_units, encoded, layout, generator, seed):
        """The trained parameters and the early-stopping record (or None)."""
        frequencies = torch.as_tensor(self._frequencies, dtype=torch.float32)
        stopping = None
        if self.early_stopping:
            fill_row = torch.cat([torch.zeros(layout.n_numeric), frequencies]).to(v.device)
            held_out, v, missing_units = _HeldOut.split(
                v, missing_units, fill_row, encoded, layout, self.validation_fraction,
                np.random.RandomState(seed))
            stopping = rbm_training.EarlyStopping(held_out, False, self.n_iter_no_change,
                                                  self.tol)
        n_linear = self._n_linear(layout)
        initial = core.init_parameters(
            layout, self.n_components + n_linear, frequencies,
            generator=generator, device=v.device, n_linear=n_linear)
        if self.linear_init == "gaussian" and n_linear and layout.n_numeric:
            self._gaussian_start(initial, v, missing_units, layout)
        options = core.TrainingOptions(
            n_epochs=self.n_epochs, batch_size=self.batch_size,
            learning_rate=self.learning_rate, weight_decay=self.weight_decay,
            cd_steps=self.cd_steps, learn_variance=self.learn_variance,
            fill=self.training_fill, integrate_linear=True)
        learning_rate = float(self.learning_rate)
        progress = tqdm(total=self.n_epochs, disable=not self.verbose,
                        desc=type(self).__name__)
        with progress:
            while True:  # training again from the start at a smaller rate after a divergence
                params, epochs = self._attempt(v.clone(), missing_units, initial, layout,
                                               options, learning_rate, generator, stopping,
                                               progress)
                if params is not None:
                    break
                learning_rate = self._back_off(learning_rate, epochs, stopping, progress)
        self.n_iter_, self.learning_rate_ = epochs, learning_rate
        return params, stopping

    def _n_linear(self, layout):
        if self.n_linear_components == "auto":
            return layout.n_numeric
        return self.n_linear_components

    def _gaussian_start(self, initial, v, missing_units, layout):
        """Set (in place) the real values' biases, variances and linear weights so that,
        the binary units off, the real values follow the Gaussian that EM fits to them."""
        n = layout.n_numeric
        mean, covariance = core.fit_gaussian_em(
            v[:, :n].cpu(), missing_units[:, :n].cpu(), GAUSSIAN_START_ITERATIONS,
            # just above the variance floor: the start must be inside the trainable set
            min_eigenvalue=1.01 * math.exp(core.MIN_LOG_VAR))
        bias, log_var, block = core.linear_block_from_gaussian(
            mean, covariance, initial.n_linear,
            variance=None if self.learn_variance else 1.0)
        device = initial.weights.device
        initial.visible_bias[:n] = bias.float().to(device)
        initial.log_var[:] = log_var.float().to(device)
        initial.weights[:n, initial.n_binary:] = block.float().to(device)

    def _attempt(self, v, missing_units, initial, layout, options, learning_rate,
                 generator, stopping, progress):
        """One training from ``initial``: ``(params, epochs)``, params None when a
        parameter became non-finite."""
        params = initial.clone()
        optimizer = core.make_optimizer(params, learning_rate)
        record = SimpleNamespace(params=params.tensors(), model=params)
        average, averaged = None, 0
        first_averaged = options.n_epochs - int(self.average_fraction * options.n_epochs)
        for epoch in range(options.n_epochs):
            if not core.run_epoch(v, missing_units, params, optimizer, layout, options,
                                  generator):
                return None, epoch
            progress.update()
            if self.verbose:
                error = core.reconstruction_error(v, missing_units, params, layout)
                progress.set_postfix({"observed_mse": f"{error:.4f}"})
            if stopping is not None and stopping(record):
                stopping.restore_best(record)
                return params, epoch + 1
            if stopping is None and epoch >= first_averaged:
                averaged += 1
                if average is None:
                    average = params.clone()
                else:
                    for mean, tensor in zip(average.tensors(), params.tensors()):
                        mean += (tensor - mean) / averaged
        if stopping is not None:
            stopping.restore_best(record)
        if average is not None:
            params = average
            # The average of normalisable models need not be one (σ² moved too).
            core.project_linear_block(params, layout)
        return params, options.n_epochs

    def _back_off(self, learning_rate, epoch, stopping, progress):
        if stopping is not None:
            stopping.reset()
        smaller = rbm_training.backed_off_rate(learning_rate)
        if smaller is None:
            raise FloatingPointError(
                f"{type(self).__name__}: training diverged in epoch {epoch + 1} even at "
                f"learning_rate={learning_rate!r}.")
        warnings.warn(
            f"{type(self).__name__}: a parameter became non-finite in epoch {epoch + 1} at "
            f"learning_rate={learning_rate!r}; training again from the start with "
            f"learning_rate={smaller!r}.", ConvergenceWarning)
        progress.reset()
        return smaller

    # -------------------------------------------------------------- transform
    def _model(self, device):
        # C order whatever the attributes' layout: the products round alike after a pickle.
        to = lambda a: torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32)).to(device)  # noqa: E731,E501
        log_var = np.log(np.asarray(self.variance_, dtype=np.float64))
        weights = np.vstack([self.components_, self.linear_components_]).T
        hidden_bias = np.concatenate([self.intercept_hidden_,
                                      np.zeros(len(self.linear_components_))])
        return core.Parameters(to(self.intercept_visible_), to(weights), to(hidden_bias),
                               to(log_var), n_linear=len(self.linear_components_))

    def transform(self, X):
        """Impute the missing entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN (or ``None``, ``pd.NA``) for the missing entries; categorical
            columns hold categories seen in ``fit``.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features)
            A new array (see the class's Notes for its type): observed entries
            unchanged, no missing entry.
        """
        encoded, missing = self._check_transform_input(X)
        numeric, codes = encoded.numeric.copy(), encoded.codes.copy()
        rows = missing.any(axis=1)
        if rows.any():
            imputed_numeric, imputed_codes = self._impute_rows(encoded, rows)
            holes = np.isnan(numeric[rows])
            block = numeric[rows]
            np.copyto(block, imputed_numeric.astype(numeric.dtype), where=holes)
            numeric[rows] = block
            code_rows = codes[rows]
            codes[rows] = np.where(code_rows < 0, imputed_codes, code_rows)
        return self._output(encoded, numeric, codes)

    def _impute_rows(self, encoded, rows):
        """Real values (input units) and category codes imputed for ``rows``."""
        device = self._transform_device()
        layout = self._layout(device)
        part = _Encoded(encoded.numeric[rows], encoded.codes[rows], None, None, True)
        v, missing_units = self._visible(part, layout, device)
        params = self._model(device)
        generator = self._generator(self._transform_seed, device)
        with torch.no_grad(), self._threads():
            if self.imputation == "mean-field":
                means = core.impute_mean_field(v, missing_units, params, layout,
                                               self.n_imputation_steps)
            else:
                means = torch.cat([
                    core.impute_chain_average(v[rows], missing_units[rows], params, layout,
                                              CHAIN_BURN_IN, self.n_imputation_steps,
                                              generator, integrate_linear=True)
                    for rows in core.row_chunks(v.shape[0], layout.n_numeric)])
            codes = core.block_argmax(means, layout).cpu().numpy()
        return self._raw(means[:, :layout.n_numeric].cpu().numpy()), codes

    def _raw(self, z):
        numeric_columns = ~self.is_categorical_
        return (z.astype(np.float64) * self.scale_[numeric_columns]
                + self.mean_[numeric_columns])

    def _output(self, encoded, numeric, codes):
        """The imputed table in the type the class's Notes describe."""
        categorical = np.flatnonzero(self.is_categorical_)
        numeric_columns = np.flatnonzero(~self.is_categorical_)
        adapter = _get_container_adapter("transform", self)
        if adapter is not None and adapter.container_lib == "pandas" and categorical.size:
            data = {}
            for position, j in enumerate(numeric_columns):
                data[j] = numeric[:, position]
            for c, j in enumerate(categorical):
                data[j] = pd.Categorical.from_codes(
                    self._dtype_codes(c, codes[:, c]), dtype=self._output_dtypes[c])
            frame = pd.DataFrame({j: data[j] for j in range(self.n_features_in_)},
                                 index=encoded.index)
            frame.columns = self.get_feature_names_out()
            return frame
        if all(table.categories_are_numbers(c) for c in self.categories_):
            out = np.empty((numeric.shape[0], self.n_features_in_), dtype=numeric.dtype)
        else:
            out = np.empty((numeric.shape[0], self.n_features_in_), dtype=object)
        out[:, numeric_columns] = numeric
        for c, j in enumerate(categorical):
            out[:, j] = self.categories_[c][codes[:, c]]
        if encoded.float_input:  # observed codes keep their bits (equal values anyway)
            observed = ~np.isnan(encoded.source)
            np.copyto(out, encoded.source, where=observed)
        return out

    def _dtype_codes(self, c, codes):
        """Codes into ``categories_[c]`` as codes into the output dtype's categories."""
        positions = pd.Index(self._output_dtypes[c].categories).get_indexer(
            pd.Index(self.categories_[c], dtype=object))
        return positions[codes]

    # ---------------------------------------------------------- posterior draws
    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw imputations of ``X`` from the model's conditional of the holes.

        One Gibbs chain per row with the observed entries clamped, started at the
        column means (category frequencies); after 50 burn-in steps a draw is recorded
        every 10 steps.  The chain's stationary distribution is the model's
        conditional ``p(v_m | v_o)``: real values are continuous draws, categorical
        entries draws of categories seen in ``fit``.  The signature and shape are
        those of :meth:`MaskedRBMImputer.sample_imputations`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for the missing entries.
        n_imputations : int, default=5
            Number of draws per row (a positive integer, not a boolean).
        random_state : int, RandomState instance or None, default=None
            Seeds the chains' local torch generator; an int gives the same draws at
            every call.

        Returns
        -------
        imputations : ndarray of shape (n_imputations, n_samples, n_features)
            Each with the observed entries of ``X`` unchanged; a float array, or an
            object array when some category is not a number (as ``transform``'s
            NumPy output).
        """
        n_imputations = self._check_n_imputations(n_imputations)
        encoded, missing = self._check_transform_input(X)
        device = self._transform_device()
        layout = self._layout(device)
        v, missing_units = self._visible(encoded, layout, device)
        params = self._model(device)
        generator = self._generator(check_random_seed(random_state), device)
        with torch.no_grad(), self._threads():
            draws = torch.cat([
                core.clamped_draws(v[rows], missing_units[rows], params, layout,
                                   n_imputations, GIBBS_BURN_IN, GIBBS_THINNING, generator,
                                   integrate_linear=True)
                for rows in core.row_chunks(v.shape[0], layout.n_numeric)], dim=1)
        imputations = []
        with _numpy_output(self):
            for draw in draws:
                numeric = encoded.numeric.copy()
                np.copyto(numeric, self._raw(draw[:, :layout.n_numeric].cpu().numpy())
                          .astype(numeric.dtype), where=np.isnan(numeric))
                drawn = core.block_argmax(draw, layout).cpu().numpy()
                codes = np.where(encoded.codes < 0, drawn, encoded.codes)
                imputations.append(self._output(encoded, numeric, codes))
        return np.stack(imputations)


class _numpy_output:
    """Within the block, ``_output`` builds NumPy arrays whatever ``set_output`` says."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __enter__(self):
        self.config = getattr(self.estimator, "_sklearn_output_config", None)
        if self.config is not None:
            self.estimator._sklearn_output_config = {**self.config, "transform": "default"}

    def __exit__(self, *exc):
        if self.config is not None:
            self.estimator._sklearn_output_config = self.config


@dataclass(frozen=True)
class _HeldOut:
    """Observed entries held out for early stopping (``EarlyStopping``'s scorer)."""

    v: torch.Tensor
    missing: torch.Tensor
    targets: torch.Tensor
    held_numeric: torch.Tensor
    held_codes: torch.Tensor
    layout: object

    @classmethod
    def split(cls, v, missing_units, fill_row, encoded, layout, fraction, rng):
        """Hold out half the observed entries of ``fraction`` of the rows; returns the
        scorer, and the rows and unit mask to train with (held-out units at
        ``fill_row``, the starting fill of the holes)."""
        columns = np.hstack([encoded.numeric, encoded.codes.astype(float)])
        column_missing = encoded.missing
        held, training_missing = rbm_training.HeldOutEntries.split(
            np.where(column_missing, 0.0, columns), column_missing, fraction, rng, "cpu")
        held_mask = torch.as_tensor(training_missing & ~column_missing)
        n = layout.n_numeric
        device = v.device
        held_units = layout.expand_missing(held_mask[:, :n].to(device),
                                           held_mask[:, n:].to(device))
        training_units = missing_units | held_units
        # Held-out units start where the holes do: the column mean, the frequencies.
        v_training = torch.where(held_units, fill_row, v)
        rows = torch.as_tensor(held.rows, device=device)
        scorer = cls(v=v_training[rows], missing=training_units[rows],
                     targets=v[rows].clone(), held_numeric=held_units[rows][:, :n],
                     held_codes=held_mask[held.rows][:, n:].to(device), layout=layout)
        return scorer, v_training, training_units

    def score(self, record, marginal):
        """Minus the root mean held-out loss (squared error of the standardised real
        values, misclassification of the categories)."""
        del marginal
        params = record.model
        with torch.no_grad():
            means = core.impute_mean_field(self.v, self.missing, params, self.layout,
                                           VALIDATION_PASSES)
            n = self.layout.n_numeric
            squared = (torch.square(means[:, :n] - self.targets[:, :n])
                       * self.held_numeric).sum()
            count = self.held_numeric.sum()
            if self.layout.n_categorical:
                wrong = (core.block_argmax(means, self.layout)
                         != core.block_argmax(self.targets, self.layout))
                squared = squared + (wrong & self.held_codes).sum()
                count = count + self.held_codes.sum()
        return -float(torch.sqrt(squared / count.clamp(min=1)))
