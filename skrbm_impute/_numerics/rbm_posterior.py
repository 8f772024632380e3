"""Pure torch core of RBM posterior sampling: Gibbs chains with the observed units clamped.

Conventions as in :mod:`skrbm_impute._numerics.rbm`: ``v_obs`` is ``(batch, n_visible)``
with the missing entries set to 0, ``missing`` the float 0/1 mask ``m``, ``weights`` the
full ``W`` (``n_visible x n_hidden``) or the factors ``(A, B)``.

Which distribution the chain targets
------------------------------------
The chain alternates ``h ~ P(h | v)`` and ``v_m ~ P(v_m | h)``, both under the RBM's
energy ``E(v, h) = -bᵀv - vᵀWh - cᵀh`` with the observed units fixed at their values
``v_o`` (real values in [0, 1] are allowed: they enter the energy as they are).  This
is Gibbs sampling of ``P_E(v_m, h | v_o)``, whose ``v_m``-marginal

    P_E(v_m | v_o) ∝ exp(b_mᵀ v_m) · Π_j (1 + exp(c_j + (v W)_j)),   v = (v_o, v_m),

is the chain's stationary distribution: the model's exact conditional of the missing
units.  Only the chain's *start* depends on the imputer: the first hidden layer is drawn
from ``P(h | v_o)`` under Ê_o, hidden input ``(v ⊙ (1-m) + b_m) W + c`` with
``b_m = sigmoid(b) ⊙ m`` for the LM-RBM and ``b_m = 0`` for ref [5] (the mean-field
imputation's hidden layer), which starts the chain close to where the imputers'
one-pass estimates sit; after the burn-in the start is forgotten, so the LM-RBM and
RBM [5] differ only through their trained parameters.
"""

import torch

from .rbm import _bernoulli, _times_w, _times_w_t, hidden_probabilities

#: Gibbs steps discarded before the first recorded draw (each step: visible, then hidden).
GIBBS_BURN_IN = 50
#: Gibbs steps between two recorded draws.
GIBBS_THINNING = 10


def clamped_chain(v_obs, missing, visible_bias, weights, hidden_bias, *, marginal, generator):
    """The Gibbs chain with the observed units clamped, one step per iteration.

    One chain per row.  ``h_0 ~ P(h | v_o)`` under Ê_o (``marginal``: the LM-RBM's
    ``b_m``), then for ``t = 1, 2, ...``: ``v_t = v_o`` on the observed units and
    ``~ P(v_m | h_{t-1})`` (Bernoulli) on the missing ones, then
    ``h_t ~ P(h | v_t)`` under E.  ``h_t`` is drawn only when the next step is asked
    for, so stopping after step ``t`` draws nothing more.

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Observed values with 0 in the holes, and the 0/1 missing mask.
    visible_bias, weights, hidden_bias : tensors
        ``b``, ``W`` (or ``(A, B)``), ``c``.
    marginal : bool
        Start the chain under Ê_o with ``b_m`` (LM-RBM) or without (ref [5]).
    generator : torch.Generator or None
        Source of every Bernoulli draw.

    Yields
    ------
    visible : tensor of shape (batch, n_visible)
        ``v_t``: ``v_obs`` on the observed units, 0/1 draws on the missing ones.
    p_visible : tensor of shape (batch, n_visible)
        ``P(v = 1 | h_{t-1}) = sigmoid(W h_{t-1} + b)``, the mean of ``v_t`` given the
        chain's hidden state.
    """
    observed = 1.0 - missing
    hidden = _bernoulli(
        hidden_probabilities(v_obs, missing, visible_bias, weights, hidden_bias,
                             marginal=marginal),
        generator, None,
    )
    while True:
        p_visible = torch.sigmoid(_times_w_t(hidden, weights) + visible_bias)
        visible = v_obs * observed + _bernoulli(p_visible, generator, None) * missing
        yield visible, p_visible
        hidden = _bernoulli(torch.sigmoid(_times_w(visible, weights) + hidden_bias),
                            generator, None)


def clamped_gibbs(
    v_obs, missing, visible_bias, weights, hidden_bias, *, marginal, n_draws,
    burn_in=GIBBS_BURN_IN, thinning=GIBBS_THINNING, generator,
):
    """0/1 draws of the missing units from the chain of :func:`clamped_chain`.

    Draw ``k`` (``k = 1..n_draws``) is ``v_t`` at step ``t = burn_in + k * thinning``.

    Parameters
    ----------
    v_obs, missing : tensor of shape (batch, n_visible)
        Observed values with 0 in the holes, and the 0/1 missing mask.
    visible_bias, weights, hidden_bias : tensors
        ``b``, ``W`` (or ``(A, B)``), ``c``.
    marginal : bool
        Start the chain under Ê_o with ``b_m`` (LM-RBM) or without (ref [5]).
    n_draws : int
        Number of recorded draws.
    burn_in : int, default=GIBBS_BURN_IN
        Steps discarded before the first recorded one (the first recorded step is
        ``burn_in + thinning``).
    thinning : int, default=GIBBS_THINNING
        Steps between recorded draws (at least 1).
    generator : torch.Generator or None
        Source of every Bernoulli draw.

    Returns
    -------
    draws : tensor of shape (n_draws, batch, n_visible)
        Observed entries equal ``v_obs``; missing entries the 0/1 draws.
    """
    if n_draws < 1 or burn_in < 0 or thinning < 1:
        raise ValueError(
            f"need n_draws >= 1, burn_in >= 0, thinning >= 1; got {n_draws}, {burn_in}, "
            f"{thinning}."
        )
    draws = torch.empty((n_draws,) + tuple(v_obs.shape), dtype=v_obs.dtype,
                        device=v_obs.device)
    chain = clamped_chain(v_obs, missing, visible_bias, weights, hidden_bias,
                          marginal=marginal, generator=generator)
    for step, (visible, _) in enumerate(chain, start=1):
        offset = step - burn_in
        if offset > 0 and offset % thinning == 0:
            draws[offset // thinning - 1] = visible
            if offset // thinning == n_draws:
                break
    return draws
