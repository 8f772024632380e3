"""The RBM of mixed tables: Gaussian visible units, softmax visible units, binary and
(optionally) Gaussian hidden units.

Pure torch.  The visible vector ``v`` of one row holds the ``n_numeric`` standardised
real-valued columns first, then one one-hot block per categorical column (a unit per
category seen in training).  ``h`` has ``n_hidden`` units: the first
``n_hidden - n_linear`` binary, the last ``n_linear`` real-valued ("linear" units, set
``L``).  With ``σ²_i = exp(log_var_i)`` for the Gaussian visible units ``i`` the energy is

    E(v, h) = Σ_i (v_i - b_i)² / (2 σ²_i)  -  Σ_i (v_i / σ²_i) W_i h
              - Σ_{c,k} v_ck (b_ck + W_ck h)  -  cᵀ h  +  Σ_{g∈L} h_g² / 2,

so that, with the hidden input ``x_j = c_j + Σ_i (v_i / σ²_i) W_ij + Σ_ck v_ck W_ckj``,

    p(h_j = 1 | v) = sigmoid(x_j)        (binary j),
    p(h_g | v)     = N(x_g, 1)           (linear g),
    p(v_i | h)     = N(b_i + W_i h, σ²_i),
    p(v_c = k | h) = softmax_k(b_ck + W_ck h),

and the free energy is ``F(v) = Σ_i (v_i - b_i)²/(2σ²_i) - Σ_ck v_ck b_ck
- Σ_j softplus(x_j) - Σ_g x_g²/2`` (up to a constant).  The linear units' biases ``c_g``
stay 0: ``c_g x_g`` is linear in ``v``, a duplicate of the visible biases.  Integrating
out the linear units leaves the real values a Gaussian factor of precision
``D⁻¹ - D⁻¹ W_L W_Lᵀ D⁻¹`` (``D = diag σ²``, ``W_L`` the real-valued rows of the linear
block): the model is a distribution only while ``‖D^{-1/2} W_L‖₂ < 1``, which
:func:`project_linear_block` enforces after every update.  The expectation
``E[h | v]`` (sigmoid for the binary units, ``x_g`` for the linear ones) is what the
gradients and the mean-field passes use.  Training minimises ``F(data) - F(model sample)`` by
the contrastive-divergence gradient (closed form), the model sample being the end of a
``k``-step Gibbs chain started at the data.  Missing entries of the training rows are
carried along as persistent imputations (stochastic EM): before each update the batch's
missing entries are redrawn from the model given the row's other entries.

Given the binary units and the categories, the real values with the linear units
integrated out are Gaussian (precision ``P`` above): :func:`integrated_numeric_step`
draws the missing ones from that Gaussian's conditional, which the clamped chains (fills,
imputations, posterior draws) use in place of the plain sweep's ``v | h`` when there are
linear units, and :func:`fit_gaussian_em` with :func:`linear_block_from_gaussian` give
training its Gaussian start.
"""

import math
from dataclasses import dataclass

import torch

#: The floor of the learned variances (standardised units): a Gaussian unit's σ² may not
#: shrink below it, which would make its hidden input explode.
MIN_LOG_VAR = math.log(0.05)
#: The bound :func:`project_linear_block` keeps ``‖D^{-1/2} W_L‖₂`` under: the model is
#: normalisable below 1, and a norm ``r`` lets the real values' variance along a direction
#: reach ``1 / (1 - r²)`` times σ², about 500 times here, which the near-collinear columns
#: of real tables need (the plain Gibbs sweep mixes slowly there, whence
#: :func:`integrated_numeric_step`).
MAX_LINEAR_NORM = 0.999
#: Rows × n_numeric² held at once by the per-row factorisations (about 128 MB in float64).
ROW_CHUNK_ENTRIES = 1 << 24


@dataclass(frozen=True)
class VisibleLayout:
    """Where each table column lives in the visible vector.

    Parameters
    ----------
    n_numeric : int
        Gaussian units, first in ``v``.
    block_index : tensor of int of shape (n_categorical, max_categories)
        Per categorical column, the positions of its units in ``v`` (padding repeats the
        column's first unit).
    block_valid : tensor of bool of shape (n_categorical, max_categories)
        False on the padding.
    unit_block : tensor of int of shape (n_visible - n_numeric,)
        The categorical column of each softmax unit.
    n_visible : int
        Length of ``v``.
    """

    n_numeric: int
    block_index: torch.Tensor
    block_valid: torch.Tensor
    unit_block: torch.Tensor
    n_visible: int

    @classmethod
    def build(cls, n_numeric, n_categories, device="cpu"):
        """The layout of ``n_numeric`` Gaussian units and one block per entry of
        ``n_categories`` (the category counts, each at least 1).

        Parameters
        ----------
        n_numeric : int
            Number of real-valued columns.
        n_categories : sequence of int
            Categories of each categorical column.
        device : str or torch.device, default="cpu"
            Where the index tensors live.

        Returns
        -------
        layout : VisibleLayout
            The layout.
        """
        n_categories = [int(k) for k in n_categories]
        width = max(n_categories, default=1)
        index = torch.zeros((len(n_categories), width), dtype=torch.long)
        valid = torch.zeros((len(n_categories), width), dtype=torch.bool)
        unit_block = []
        start = n_numeric
        for row, k in enumerate(n_categories):
            index[row, :k] = torch.arange(start, start + k)
            index[row, k:] = start
            valid[row, :k] = True
            unit_block += [row] * k
            start += k
        unit_block = torch.tensor(unit_block, dtype=torch.long)
        return cls(n_numeric, index.to(device), valid.to(device), unit_block.to(device),
                   start)

    @property
    def n_categorical(self):
        """Number of categorical columns."""
        return self.block_index.shape[0]

    def expand_missing(self, numeric_missing, categorical_missing):
        """The visible-unit missing mask from the column masks (a block is missing as a
        whole).

        Parameters
        ----------
        numeric_missing : tensor of bool of shape (n_rows, n_numeric)
            Missing real-valued entries.
        categorical_missing : tensor of bool of shape (n_rows, n_categorical)
            Missing categorical entries.

        Returns
        -------
        missing : tensor of bool of shape (n_rows, n_visible)
            True on every unit of a missing entry.
        """
        return torch.cat([numeric_missing, categorical_missing[:, self.unit_block]], dim=1)

    def one_hot(self, codes):
        """Categorical codes as one-hot blocks (code -1, missing, gives zeros).

        Parameters
        ----------
        codes : tensor of int of shape (n_rows, n_categorical)
            Category indices, -1 where missing.

        Returns
        -------
        blocks : tensor of float32 of shape (n_rows, n_visible - n_numeric)
            The categorical part of ``v``.
        """
        n_rows = codes.shape[0]
        blocks = torch.zeros((n_rows, self.n_visible - self.n_numeric),
                             dtype=torch.float32, device=codes.device)
        if self.n_categorical:
            known = codes >= 0
            position = self.block_index[torch.arange(self.n_categorical,
                                                     device=codes.device),
                                        codes.clamp(min=0)] - self.n_numeric
            rows = torch.arange(n_rows, device=codes.device)[:, None].expand_as(codes)
            blocks[rows[known], position[known]] = 1.0
        return blocks

    def block_logits(self, logits):
        """The categorical blocks' logits as ``(n_rows, n_categorical, max_categories)``
        with ``-inf`` on the padding."""
        gathered = logits[:, self.block_index]
        return gathered.masked_fill(~self.block_valid, -math.inf)

    def scatter_blocks(self, out, values):
        """Write ``(n_rows, n_categorical, max_categories)`` block values into ``out``'s
        categorical units (in place; padding dropped)."""
        n_rows = out.shape[0]
        index = self.block_index.reshape(1, -1).expand(n_rows, -1)
        # The padding points at a block's first unit and adds 0 there.
        valid = self.block_valid.reshape(1, -1).expand(n_rows, -1)
        flat = values.reshape(n_rows, -1)
        out[:, self.n_numeric:] = 0.0
        out.scatter_add_(1, index, torch.where(valid, flat, torch.zeros_like(flat)))
        return out


@dataclass
class Parameters:
    """The RBM's trainable tensors.

    Parameters
    ----------
    visible_bias : tensor of shape (n_visible,)
        ``b``: the Gaussian units' means with every hidden unit off, the softmax
        units' logits.
    weights : tensor of shape (n_visible, n_hidden)
        ``W``.
    hidden_bias : tensor of shape (n_hidden,)
        ``c``.
    log_var : tensor of shape (n_numeric,)
        ``log σ²`` of the Gaussian units.
    n_linear : int, default=0
        The last ``n_linear`` hidden units are Gaussian (unit variance), the others
        binary.
    """

    visible_bias: torch.Tensor
    weights: torch.Tensor
    hidden_bias: torch.Tensor
    log_var: torch.Tensor
    n_linear: int = 0

    def tensors(self):
        """``[b, W, c, log σ²]``."""
        return [self.visible_bias, self.weights, self.hidden_bias, self.log_var]

    def clone(self):
        """A detached copy."""
        return Parameters(*(t.detach().clone() for t in self.tensors()),
                          n_linear=self.n_linear)

    @property
    def n_binary(self):
        """Number of binary hidden units (the first ones)."""
        return self.weights.shape[1] - self.n_linear


def init_parameters(layout, n_hidden, category_frequencies, *, generator, device="cpu",
                    weight_scale=0.01, n_linear=0):
    """Initial parameters: ``W ~ N(0, weight_scale²)``, ``c = 0``, ``σ² = 1``, Gaussian
    biases 0 (the standardised mean), softmax biases the log observed frequencies.

    Parameters
    ----------
    layout : VisibleLayout
        The visible layer.
    n_hidden : int
        Hidden units.
    category_frequencies : tensor of shape (n_visible - n_numeric,)
        Observed frequency of each category within its column (positive).
    generator : torch.Generator
        Source of ``W``.
    device : str or torch.device, default="cpu"
        Where the tensors live.
    weight_scale : float, default=0.01
        Standard deviation of the initial weights.
    n_linear : int, default=0
        How many of the ``n_hidden`` units (the last ones) are Gaussian.

    Returns
    -------
    params : Parameters
        Float32 tensors.
    """
    weights = torch.randn((layout.n_visible, n_hidden), generator=generator,
                          device=device) * weight_scale
    visible_bias = torch.zeros(layout.n_visible, device=device)
    visible_bias[layout.n_numeric:] = torch.log(category_frequencies.to(device))
    return Parameters(visible_bias, weights, torch.zeros(n_hidden, device=device),
                      torch.zeros(layout.n_numeric, device=device), n_linear=n_linear)


def visible_scale(params, layout):
    """Per visible unit, the factor of its value in the hidden input: ``1/σ²`` for the
    Gaussian units, 1 for the softmax units."""
    ones = torch.ones(layout.n_visible - layout.n_numeric, device=params.log_var.device,
                      dtype=params.log_var.dtype)
    return torch.cat([torch.exp(-params.log_var), ones])


def hidden_input(v, params, layout):
    """``c + (v ⊙ scale) W``: the hidden units' total input.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Complete visible vectors.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    input : tensor of shape (n_rows, n_hidden)
        ``x``: the logits of ``p(h = 1 | v)`` of the binary units, the means of the
        linear ones.
    """
    return (v * visible_scale(params, layout)) @ params.weights + params.hidden_bias


def hidden_means_from_input(x, n_linear):
    """``E[h | v]`` from the hidden input ``x``: ``sigmoid(x)`` on the binary units,
    ``x`` itself on the last ``n_linear`` (linear) units."""
    if not n_linear:
        return torch.sigmoid(x)
    n_binary = x.shape[1] - n_linear
    return torch.cat([torch.sigmoid(x[:, :n_binary]), x[:, n_binary:]], dim=1)


def sample_hidden_from_means(means, n_linear, generator):
    """A draw of ``h`` given ``E[h | v]``: Bernoulli for the binary units, ``N(mean, 1)``
    for the last ``n_linear`` units."""
    if not n_linear:
        return torch.bernoulli(means, generator=generator)
    n_binary = means.shape[1] - n_linear
    binary = torch.bernoulli(means[:, :n_binary], generator=generator)
    linear = means[:, n_binary:]
    noise = torch.randn(linear.shape, generator=generator, device=means.device,
                        dtype=means.dtype)
    return torch.cat([binary, linear + noise], dim=1)


def hidden_means(v, params, layout):
    """``E[h | v]``: ``p(h_j = 1 | v)`` of the binary units, ``x_g`` of the linear ones.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Complete visible vectors.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    means : tensor of shape (n_rows, n_hidden)
        In (0, 1) on the binary units.
    """
    return hidden_means_from_input(hidden_input(v, params, layout), params.n_linear)


def visible_means(h, params, layout):
    """``E[v | h]``: the Gaussian units' means and the softmax units' probabilities.

    Parameters
    ----------
    h : tensor of shape (n_rows, n_hidden)
        Hidden states or probabilities.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    means : tensor of shape (n_rows, n_visible)
        ``b_i + W_i h`` on the Gaussian units, ``softmax(b_c + W_c h)`` on each block.
    """
    logits = h @ params.weights.T + params.visible_bias
    if layout.n_categorical:
        probabilities = torch.softmax(layout.block_logits(logits), dim=-1)
        logits = layout.scatter_blocks(logits.clone(), probabilities)
    return logits


def sample_visible(h, params, layout, generator, with_means=True):
    """A draw of ``v ~ p(v | h)``: Gaussian values and one-hot categories.

    Parameters
    ----------
    h : tensor of shape (n_rows, n_hidden)
        Hidden states.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    generator : torch.Generator
        Source of the draws.
    with_means : bool, default=True
        Whether to compute ``E[v | h]`` too.

    Returns
    -------
    v : tensor of shape (n_rows, n_visible)
        The draw.
    means : tensor of shape (n_rows, n_visible)
        ``E[v | h]`` (what :func:`visible_means` returns); ``v`` itself when
        ``with_means`` is False (the CD chain needs no means).
    """
    logits = h @ params.weights.T + params.visible_bias
    numeric = logits[:, :layout.n_numeric]
    noise = torch.randn(numeric.shape, generator=generator, device=h.device)
    v = torch.empty_like(logits)
    v[:, :layout.n_numeric] = numeric + noise * torch.exp(0.5 * params.log_var)
    means = logits.clone() if with_means else v
    if layout.n_categorical:
        block = layout.block_logits(logits)
        uniform = torch.rand(block.shape, generator=generator, device=h.device)
        gumbel = -torch.log((-torch.log(uniform.clamp(min=1e-20))).clamp(min=1e-20))
        choice = torch.argmax(block + gumbel, dim=-1)
        one_hot = torch.zeros_like(block).scatter_(-1, choice[..., None], 1.0)
        layout.scatter_blocks(v, one_hot)
        if with_means:
            layout.scatter_blocks(means, torch.softmax(block, dim=-1))
    return v, means


def sample_hidden(v, params, layout, generator):
    """A draw of ``h ~ p(h | v)``."""
    return sample_hidden_from_means(hidden_means(v, params, layout), params.n_linear,
                                    generator)


def energy(v, h, params, layout):
    """``E(v, h)`` per row (see the module docstring).

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Visible states (one-hot blocks).
    h : tensor of shape (n_rows, n_hidden)
        Hidden states.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    energy : tensor of shape (n_rows,)
        The energies.
    """
    n = layout.n_numeric
    var = torch.exp(params.log_var)
    quadratic = (torch.square(v[:, :n] - params.visible_bias[:n]) / (2 * var)).sum(1)
    linear = (v[:, n:] * params.visible_bias[n:]).sum(1)
    interaction = ((v * visible_scale(params, layout)) @ params.weights * h).sum(1)
    gaussian_hidden = 0.5 * torch.square(h[:, params.n_binary:]).sum(1)
    return quadratic - linear - interaction - h @ params.hidden_bias + gaussian_hidden


def free_energy(v, params, layout):
    """``F(v) = -log Σ_h exp(-E(v, h))`` per row (the linear units integrated, up to
    the constant ``n_linear · log(2π) / 2``).

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Visible states (one-hot or soft blocks).
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    free_energy : tensor of shape (n_rows,)
        The free energies.
    """
    n = layout.n_numeric
    var = torch.exp(params.log_var)
    quadratic = (torch.square(v[:, :n] - params.visible_bias[:n]) / (2 * var)).sum(1)
    linear = (v[:, n:] * params.visible_bias[n:]).sum(1)
    x = hidden_input(v, params, layout)
    n_binary = params.n_binary
    hidden = (torch.nn.functional.softplus(x[:, :n_binary]).sum(1)
              + 0.5 * torch.square(x[:, n_binary:]).sum(1))
    return quadratic - linear - hidden


def numeric_precision(params, layout):
    """``P = D⁻¹ - D⁻¹ W_L W_Lᵀ D⁻¹``: the precision of the real values given the binary
    hidden units and the categories, the linear units integrated out (``W_L`` their
    real-valued rows; positive definite while ``‖D^{-1/2} W_L‖₂ < 1``)."""
    n = layout.n_numeric
    inv_var = torch.exp(-params.log_var)
    scaled = params.weights[:n, params.n_binary:] * inv_var[:, None]
    return torch.diag(inv_var) - scaled @ scaled.T, scaled


def numeric_natural_mean(v, h, params, layout, scaled):
    """``η = D⁻¹ (b + W_B h_B) + D⁻¹ W_L (W_Cᵀ v_c)``: the linear term of the real
    values' Gaussian given the binary units ``h_B`` and the categories ``v_c`` (its
    mean is ``P⁻¹ η``)."""
    n, n_binary = layout.n_numeric, params.n_binary
    inv_var = torch.exp(-params.log_var)
    binary = h[:, :n_binary] @ params.weights[:n, :n_binary].T
    categorical = v[:, n:] @ params.weights[n:, n_binary:]
    return (params.visible_bias[:n] + binary) * inv_var + categorical @ scaled.T


def numeric_factorisation(numeric_missing, params, layout):
    """``(P, D⁻¹ W_L, cholesky)``: what :func:`integrated_numeric_step` needs of the
    model and the missing pattern (the same for every step of a clamped chain).  The
    Cholesky factor is ``P``'s when ``numeric_missing`` is None, else per row that of
    ``P_mm`` padded with the identity on the observed units."""
    precision, scaled = numeric_precision(params, layout)
    if numeric_missing is None:
        return precision, scaled, torch.linalg.cholesky(precision)
    missing = numeric_missing.to(precision.dtype)
    per_row = (precision * (missing[:, :, None] * missing[:, None, :])
               + torch.diag_embed(1.0 - missing))
    return precision, scaled, torch.linalg.cholesky(per_row)


def integrated_numeric_step(v, numeric_missing, h, params, layout, generator,
                            factorisation=None):
    """A draw of the missing real values from their Gaussian given the observed real
    values, the categories and the binary units ``h_B``, the linear units integrated
    out (a collapsed Gibbs step); and that Gaussian's mean.

    The joint of the real values is ``N(P⁻¹ η, P⁻¹)`` (:func:`numeric_precision`,
    :func:`numeric_natural_mean`); with the missing set ``m`` and observed ``o`` of a
    row, ``v_m | v_o ~ N(P_mm⁻¹ (η_m - P_mo v_o), P_mm⁻¹)``, solved by one batched
    Cholesky factorisation per call (the observed units padded with the identity).

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Current states: the observed values, the categories, the current draws.
    numeric_missing : tensor of bool of shape (n_rows, n_numeric) or None
        The real values redrawn; None: all of them (a draw from the model given
        ``h_B`` and ``v_c``).
    h : tensor of shape (n_rows, n_hidden)
        Hidden states (the linear ones are not read).
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    generator : torch.Generator
        Source of the draws.
    factorisation : tuple or None, default=None
        :func:`numeric_factorisation`'s result for these arguments, when the caller
        keeps it between steps.

    Returns
    -------
    draw : tensor of shape (n_rows, n_numeric)
        The real values, observed ones unchanged.
    mean : tensor of shape (n_rows, n_numeric)
        The conditional means (the observed values where observed).
    """
    n = layout.n_numeric
    if factorisation is None:
        factorisation = numeric_factorisation(numeric_missing, params, layout)
    precision, scaled, factor = factorisation
    eta = numeric_natural_mean(v, h, params, layout, scaled)
    noise = torch.randn(eta.shape, generator=generator, device=eta.device, dtype=eta.dtype)
    if numeric_missing is None:
        mean = torch.cholesky_solve(eta.T, factor).T
        deviation = torch.linalg.solve_triangular(factor.T, noise.T, upper=True).T
        return mean + deviation, mean
    current = v[:, :n]
    missing = numeric_missing.to(eta.dtype)
    right = missing * (eta - (current * (1.0 - missing)) @ precision)
    mean = torch.cholesky_solve(right[..., None], factor)[..., 0]
    deviation = torch.linalg.solve_triangular(factor.mT, noise[..., None], upper=True)[..., 0]
    mean = torch.where(numeric_missing, mean, current)
    return torch.where(numeric_missing, mean + deviation, current), mean


def _integrates(params, layout, integrate_linear):
    return bool(integrate_linear and params.n_linear and layout.n_numeric)


def _chain_factorisation(missing, params, layout, integrate_linear):
    """The factorisation a clamped chain's steps share (None without integration)."""
    if not _integrates(params, layout, integrate_linear):
        return None
    return numeric_factorisation(missing[:, :layout.n_numeric], params, layout)


def clamped_gibbs_step(v, missing, params, layout, generator, integrate_linear=False,
                       factorisation=None):
    """One Gibbs sweep ``h ~ p(h | v)``, ``v_m ~ p(v_m | h)`` with the observed units
    clamped.

    With ``integrate_linear`` (and linear hidden units) the real values are drawn with
    the linear units integrated out (:func:`integrated_numeric_step`), after the
    categories: the sweep is ``h ~ p(h | v)``, ``v_c,m ~ p(v_c | h)``,
    ``v_r,m ~ p(v_r,m | v_r,o, v_c, h_B)`` (a partially collapsed Gibbs sampler with the
    same stationary distribution, which mixes fast along the linear units' strong
    correlations), and the means returned are that Gaussian's.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Complete visible states (observed values and the current draws).
    missing : tensor of bool of shape (n_rows, n_visible)
        The units redrawn.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    generator : torch.Generator
        Source of the draws.
    integrate_linear : bool, default=False
        Draw the real values with the linear units integrated out.
    factorisation : tuple or None, default=None
        :func:`numeric_factorisation` of ``missing``'s real-valued part, when the
        caller keeps it between steps.

    Returns
    -------
    v : tensor of shape (n_rows, n_visible)
        The new state (a new tensor).
    means : tensor of shape (n_rows, n_visible)
        ``E[v | h]`` of the sweep's ``h`` (its Rao-Blackwellised estimate).
    """
    h = sample_hidden(v, params, layout, generator)
    draw, means = sample_visible(h, params, layout, generator)
    v = torch.where(missing, draw, v)
    if _integrates(params, layout, integrate_linear):
        n = layout.n_numeric
        numeric, numeric_means = integrated_numeric_step(v, missing[:, :n], h, params,
                                                         layout, generator, factorisation)
        v = torch.cat([numeric, v[:, n:]], dim=1)
        means = torch.cat([numeric_means, means[:, n:]], dim=1)
    return v, means


def free_energy_gradients(v, params, layout, hidden=None):
    """The gradients of ``mean F(v)`` over the rows with respect to ``b, W, c, log σ²``.

    In closed form, with ``p = E[h | v]`` and ``s`` the units' factors
    (``1/σ²`` or 1): ``∂F/∂b_i = -(v_i - b_i)/σ²_i`` (Gaussian), ``∂F/∂b_ck = -v_ck``,
    ``∂F/∂W = -(v ⊙ s)ᵀ p``, ``∂F/∂c = -p``,
    ``∂F/∂log σ²_i = -(v_i - b_i)²/(2σ²_i) + (v_i/σ²_i) (W p)_i``.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Complete visible vectors.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    hidden : tensor of shape (n_rows, n_hidden) or None, default=None
        ``E[h | v]`` when the caller has it.

    Returns
    -------
    gradients : list of tensors
        Shaped like ``params.tensors()``.
    """
    n_rows, n = v.shape[0], layout.n_numeric
    scale = visible_scale(params, layout)
    scaled = v * scale
    p = hidden_means_from_input(scaled @ params.weights + params.hidden_bias,
                                params.n_linear) if hidden is None else hidden
    residual = v[:, :n] - params.visible_bias[:n]
    grad_b = torch.cat([-(residual * scale[:n]).sum(0), -v[:, n:].sum(0)]) / n_rows
    grad_w = -(scaled.T @ p) / n_rows
    grad_c = -p.sum(0) / n_rows
    back = (p @ params.weights.T)[:, :n]
    grad_log_var = ((-0.5 * torch.square(residual) + v[:, :n] * back) * scale[:n]).sum(0)
    return [grad_b, grad_w, grad_c, grad_log_var / n_rows]


def cd_gradients(v_data, params, layout, cd_steps, generator):
    """CD-k's estimate of the negative log-likelihood's gradient:
    ``∇ mean F(v_data) - ∇ mean F(v_k)``, ``v_k`` ending a ``cd_steps``-step Gibbs
    chain started at ``v_data``.

    Parameters
    ----------
    v_data : tensor of shape (n_rows, n_visible)
        Complete training rows.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    cd_steps : int
        Gibbs steps of the negative chain.
    generator : torch.Generator
        Source of the draws.

    Returns
    -------
    gradients : list of tensors
        Shaped like ``params.tensors()``.

    Notes
    -----
    The chain is the plain sweep even where the fills and imputations integrate the
    linear units out: a prototype chain drawing the real values with them integrated
    out learnt worse models (RMSE over mean imputation's: a synthetic rank-3 table with
    8 linear units 0.65 against 0.29; crabs under MAR, 30 linear units, seed 100, 0.91
    against 0.32).
    """
    positive_hidden = hidden_means(v_data, params, layout)
    h = sample_hidden_from_means(positive_hidden, params.n_linear, generator)
    for step in range(cd_steps):
        if step:
            h = sample_hidden(v, params, layout, generator)
        v, _ = sample_visible(h, params, layout, generator, with_means=False)
    positive = free_energy_gradients(v_data, params, layout, positive_hidden)
    negative = free_energy_gradients(v, params, layout)
    return [a - b for a, b in zip(positive, negative)]


def reconstruction_error(v, missing, params, layout):
    """Mean squared error of the one-step mean reconstruction ``E[v | E[h | v]]`` of the
    observed Gaussian units (the progress bar's figure)."""
    means = visible_means(hidden_means(v, params, layout), params, layout)
    n = layout.n_numeric
    observed = ~missing[:, :n]
    squared = torch.square(means[:, :n] - v[:, :n]) * observed
    return float(squared.sum()) / max(float(observed.sum()), 1.0)


def impute_mean_field(v, missing, params, layout, n_iter):
    """Deterministic imputation: ``n_iter`` passes ``v_m ← E[v_m | E[h | v]]``.

    The missing units start at the values ``v`` holds there.  Softmax blocks carry
    their probabilities between passes.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Observed values and the starting fill.
    missing : tensor of bool of shape (n_rows, n_visible)
        The units imputed.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    n_iter : int
        Passes (at least 1).

    Returns
    -------
    means : tensor of shape (n_rows, n_visible)
        The last pass's ``E[v | h]`` (Gaussian means, category probabilities).
    """
    means = v
    for _ in range(max(int(n_iter), 1)):
        means = visible_means(hidden_means(v, params, layout), params, layout)
        v = torch.where(missing, means, v)
    return means


def impute_chain_average(v, missing, params, layout, n_burn_in, n_steps, generator,
                         integrate_linear=False):
    """Imputation by the clamped Gibbs chain: the average of ``E[v | h]`` over its steps.

    Rao-Blackwellised: each step contributes the conditional mean of its ``h`` rather
    than its draw of ``v``, which has the same expectation and less variance.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Observed values and the chain's start in the missing units.
    missing : tensor of bool of shape (n_rows, n_visible)
        The units imputed (the others stay clamped).
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    n_burn_in : int
        Steps not averaged.
    n_steps : int
        Steps averaged (at least 1).
    generator : torch.Generator
        Source of the draws.
    integrate_linear : bool, default=False
        Draw the real values with the linear units integrated out
        (:func:`clamped_gibbs_step`).

    Returns
    -------
    means : tensor of shape (n_rows, n_visible)
        The averaged ``E[v | h]``: Gaussian means and category probabilities.
    """
    factorisation = _chain_factorisation(missing, params, layout, integrate_linear)
    step = lambda v: clamped_gibbs_step(v, missing, params, layout, generator,  # noqa: E731
                                        integrate_linear, factorisation)
    for _ in range(n_burn_in):
        v, _ = step(v)
    total = torch.zeros_like(v)
    n_steps = max(int(n_steps), 1)
    for _ in range(n_steps):
        v, means = step(v)
        total += means
    return total / n_steps


def clamped_draws(v, missing, params, layout, n_draws, n_burn_in, thinning, generator,
                  integrate_linear=False):
    """``n_draws`` states of the clamped Gibbs chain, after ``n_burn_in`` steps and
    every ``thinning`` steps.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Observed values and the chain's start in the missing units.
    missing : tensor of bool of shape (n_rows, n_visible)
        The units redrawn.
    params : Parameters
        The model.
    layout : VisibleLayout
        The visible layer.
    n_draws, n_burn_in, thinning : int
        The chain's schedule.
    generator : torch.Generator
        Source of the draws.
    integrate_linear : bool, default=False
        Draw the real values with the linear units integrated out
        (:func:`clamped_gibbs_step`).

    Returns
    -------
    draws : tensor of shape (n_draws, n_rows, n_visible)
        Real values and one-hot categories in the missing units.
    """
    factorisation = _chain_factorisation(missing, params, layout, integrate_linear)
    step = lambda v: clamped_gibbs_step(v, missing, params, layout, generator,  # noqa: E731
                                        integrate_linear, factorisation)[0]
    for _ in range(n_burn_in):
        v = step(v)
    draws = []
    for _ in range(n_draws):
        for _ in range(thinning):
            v = step(v)
        draws.append(v)
    return torch.stack(draws)


def block_argmax(values, layout):
    """Per categorical column, the index of the largest unit of its block.

    Parameters
    ----------
    values : tensor of shape (n_rows, n_visible)
        Probabilities or one-hot blocks.
    layout : VisibleLayout
        The visible layer.

    Returns
    -------
    codes : tensor of int of shape (n_rows, n_categorical)
        Category indices.
    """
    return torch.argmax(layout.block_logits(values), dim=-1)


# ---------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainingOptions:
    """The fixed settings of a training.

    Parameters
    ----------
    n_epochs, batch_size : int
        Passes over the rows and rows per update.
    learning_rate : float
        Adam's step size.
    weight_decay : float
        L2 cost ``weight_decay · ||W||² / 2`` added to the loss (weights only).
    cd_steps : int
        Gibbs steps of CD-k's negative chain.
    learn_variance : bool
        Whether ``log σ²`` learns (floored at :data:`MIN_LOG_VAR`); else σ² = 1.
    fill : {"sample", "mean-field"}
        How the persistent imputations of the training rows' missing entries are
        refreshed before each update: a draw from the clamped Gibbs sweep (stochastic
        EM) or the conditional means ``E[v_m | E[h | v]]``.
    integrate_linear : bool
        The fill's draws take the real values with the linear units integrated out
        (:func:`clamped_gibbs_step`).
    """

    n_epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.0
    cd_steps: int = 1
    learn_variance: bool = True
    fill: str = "sample"
    integrate_linear: bool = False


def refresh_fill(v, missing, params, layout, fill, generator, integrate_linear=False):
    """The rows ``v`` with their missing units redrawn (``fill="sample"``) or set to
    their conditional means (``fill="mean-field"``); observed units unchanged."""
    if fill == "sample":
        return clamped_gibbs_step(v, missing, params, layout, generator,
                                  integrate_linear)[0]
    means = visible_means(hidden_means(v, params, layout), params, layout)
    return torch.where(missing, means, v)


def run_epoch(v, missing, params, optimizer, layout, options, generator):
    """One pass over the rows in a fresh random order; ``v`` (the persistent fill) and
    ``params`` are updated in place.

    Parameters
    ----------
    v : tensor of shape (n_rows, n_visible)
        Observed values and the current fill of the missing units.
    missing : tensor of bool of shape (n_rows, n_visible)
        The missing units.
    params : Parameters
        The model, updated in place.
    optimizer : torch.optim.Optimizer
        Over ``params.tensors()``.
    layout : VisibleLayout
        The visible layer.
    options : TrainingOptions
        The fixed settings.
    generator : torch.Generator
        Source of the draws.

    Returns
    -------
    finite : bool
        False when a parameter became non-finite (the caller restarts).
    """
    n_rows = v.shape[0]
    order = torch.randperm(n_rows, generator=generator, device=v.device)
    tensors = params.tensors()
    for start in range(0, n_rows, options.batch_size):
        rows = order[start:start + options.batch_size]
        batch = refresh_fill(v[rows], missing[rows], params, layout, options.fill,
                             generator, options.integrate_linear)
        v[rows] = batch
        gradients = cd_gradients(batch, params, layout, options.cd_steps, generator)
        if options.weight_decay:
            gradients[1] = gradients[1] + options.weight_decay * params.weights
        for tensor, gradient in zip(tensors, gradients):
            tensor.grad = gradient
        if not options.learn_variance:
            params.log_var.grad = None
        if params.n_linear:
            gradients[2][params.n_binary:] = 0.0  # the linear units' biases stay 0
        optimizer.step()
        params.log_var.clamp_(min=MIN_LOG_VAR)
        project_linear_block(params, layout)
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def linear_block_norm(params, layout):
    """``‖D^{-1/2} W_L‖₂``: the spectral norm of the real-valued rows of the linear
    units' weights, each row divided by its unit's σ (0 without linear units)."""
    if not params.n_linear or not layout.n_numeric:
        return 0.0
    block = params.weights[:layout.n_numeric, params.n_binary:]
    scaled = block * torch.exp(-0.5 * params.log_var)[:, None]
    return float(torch.linalg.matrix_norm(scaled, ord=2))


def project_linear_block(params, layout, max_norm=None):
    """Rescale the linear block's real-valued rows (in place) so that
    ``‖D^{-1/2} W_L‖₂ ≤ max_norm``: below 1 the real values' Gaussian factor, the
    linear units integrated out, keeps a positive definite precision."""
    max_norm = MAX_LINEAR_NORM if max_norm is None else max_norm
    norm = linear_block_norm(params, layout)
    if norm > max_norm:
        params.weights[:layout.n_numeric, params.n_binary:] *= max_norm / norm


def make_optimizer(params, learning_rate):
    """Adam over the parameters (their ``grad`` set by :func:`run_epoch`)."""
    return torch.optim.Adam(params.tensors(), lr=learning_rate, foreach=True)


# ------------------------------------------------------- Gaussian start of the linear units
def fit_gaussian_em(numeric, numeric_missing, n_iter=50, min_eigenvalue=0.05):
    """Maximum-likelihood mean and covariance of incomplete real-valued rows by EM.

    The E step takes each row's missing values' Gaussian conditional given its observed
    ones (mean and covariance); the M step the completed rows' mean and covariance
    plus the conditional covariances.  The covariance's eigenvalues are floored at
    ``min_eigenvalue`` after each M step (the RBM's real values cannot be more tightly
    related than its smallest variance allows).

    Parameters
    ----------
    numeric : tensor of shape (n_rows, n_numeric)
        Standardised values; anything where missing.
    numeric_missing : tensor of bool of shape (n_rows, n_numeric)
        The missing entries.
    n_iter : int, default=50
        EM iterations.
    min_eigenvalue : float, default=0.05
        Floor of the covariance's eigenvalues.

    Returns
    -------
    mean : tensor of shape (n_numeric,)
    covariance : tensor of shape (n_numeric, n_numeric)
        Float64.
    """
    x = numeric.to(torch.float64)
    missing = numeric_missing.to(torch.float64)
    observed = 1.0 - missing
    counts = observed.sum(0).clamp(min=1.0)
    mean = (x * observed).sum(0) / counts
    filled = torch.where(numeric_missing, mean, x)
    covariance = _floored(torch.cov(filled.T, correction=0).reshape(x.shape[1], -1),
                          min_eigenvalue)
    n_rows, n = x.shape
    for _ in range(n_iter):
        precision = torch.linalg.inv(covariance)
        conditional_covariance = torch.zeros_like(covariance)
        completed = []
        for rows in row_chunks(n_rows, n):
            m, o = missing[rows], observed[rows]
            pair = m[:, :, None] * m[:, None, :]
            padded = precision * pair + torch.diag_embed(o)
            right = -m * (((filled[rows] - mean) * o) @ precision)
            inverse = torch.cholesky_inverse(torch.linalg.cholesky(padded)) * pair
            completed.append(torch.where(numeric_missing[rows],
                                         mean + (inverse @ right[..., None])[..., 0],
                                         x[rows]))
            conditional_covariance += inverse.sum(0)
        filled = torch.cat(completed)
        mean = filled.mean(0)
        centred = filled - mean
        covariance = _floored((centred.T @ centred + conditional_covariance) / n_rows,
                              min_eigenvalue)
    return mean, covariance


def row_chunks(n_rows, n_numeric):
    """Slices of at most ``ROW_CHUNK_ENTRIES / n_numeric²`` rows covering ``n_rows``:
    the per-row factorisations of so many rows fit in memory at once."""
    size = max(1, ROW_CHUNK_ENTRIES // max(n_numeric * n_numeric, 1))
    return [slice(start, start + size) for start in range(0, n_rows, size)]


def _floored(covariance, min_eigenvalue):
    values, vectors = torch.linalg.eigh(covariance)
    return (vectors * values.clamp(min=min_eigenvalue)) @ vectors.T


def linear_block_from_gaussian(mean, covariance, n_linear, max_norm=None, variance=None):
    """``(b, log σ², W_L)`` of real values whose Gaussian factor (the linear units
    integrated out, no binary unit on) is ``N(mean, covariance)``, as nearly as
    ``n_linear`` units and ``‖D^{-1/2} W_L‖₂ ≤ max_norm`` allow.

    With ``D = t I``, ``t = 1 / λ_max(P)`` (``P`` the precision) and ``A = D^{-1/2}
    W_L``, ``P = D⁻¹ - D⁻¹ W_L W_Lᵀ D⁻¹`` reads ``A Aᵀ = I - t P``: ``A`` takes the
    ``n_linear`` leading eigenvectors of ``I - t P`` (the directions of largest
    variance), scaled by the roots of their eigenvalues, each root capped at
    ``max_norm``.  A given ``variance`` replaces ``t`` (σ² fixed): directions of smaller
    variance than it get the variance ``t``.

    Parameters
    ----------
    mean : tensor of shape (n_numeric,)
    covariance : tensor of shape (n_numeric, n_numeric)
    n_linear : int
        Linear units (at most ``n_numeric`` are used; the rest get zero weights).
    max_norm : float or None, default=None
        :data:`MAX_LINEAR_NORM` when None.
    variance : float or None, default=None
        The units' common σ²; None: the covariance's smallest eigenvalue.

    Returns
    -------
    visible_bias : tensor of shape (n_numeric,)
    log_var : tensor of shape (n_numeric,)
    linear_weights : tensor of shape (n_numeric, n_linear)
    """
    max_norm = MAX_LINEAR_NORM if max_norm is None else max_norm
    n = covariance.shape[0]
    values, vectors = torch.linalg.eigh(covariance.to(torch.float64))  # ascending
    t = float(values[0]) if variance is None else float(variance)  # 1 / λ_max(P)
    # I - tP has eigenvalues 1 - t / λ_k, largest for the largest variances λ_k.
    used = min(int(n_linear), n)
    leading = torch.flip(values, [0])[:used]
    scales = torch.sqrt((1.0 - t / leading).clamp(min=0.0)).clamp(max=max_norm)
    block = torch.zeros((n, int(n_linear)), dtype=torch.float64)
    block[:, :used] = torch.flip(vectors, [1])[:, :used] * scales * math.sqrt(t)
    return mean, torch.full((n,), math.log(t), dtype=torch.float64), block
