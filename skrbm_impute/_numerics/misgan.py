"""MisGAN (Li, Jiang & Marlin 2019) as small torch modules and pure training steps.

Everything follows the authors' released ``src-torch1.6`` code for MNIST
(https://github.com/steveli/misgan):

* generators (``ConvGenerator`` for 28x28, ``FCGenerator`` for any size) end in
  a data transform (sigmoid) or a mask transform (sigmoid, hard sigmoid or "fusion");
* critics (``ConvCritic``, ``FCCritic``) return a raw scalar (WGAN);
* ``ComplementImputer`` is the 784-784 imputer, generalised to ``n_pixels`` wide
  layers: input ``m*x + (1-m)*noise``, output its raw sigmoid (the caller
  composites it with the observed pixels);
* ``critic_step`` and ``generator_step`` are one WGAN-GP update of the three
  critics, and one update of the mask generator, data generator and imputer.

Images travel as flat ``(batch, n_pixels)`` float tensors, and masks with
**1 = observed** (the authors' convention, the opposite of the estimator's missing
mask); missing values must already be 0 (never NaN) before they reach these
functions.  All randomness comes from an explicit ``torch.Generator``.
"""

import math

import torch
from torch import nn

MASK_TRANSFORMS = ("sigmoid", "hardsigmoid", "fusion")
BETA_FORMS = ("released", "paper")
NETWORK_NAMES = (
    "data_generator",
    "mask_generator",
    "data_critic",
    "mask_critic",
    "imputer_critic",
    "imputer",
)
CONV_IMAGE_SHAPE = (28, 28)


class MaskTransform(nn.Module):
    """Turn generator logits into a soft mask in [0, 1] (the authors' ``add_mask_transformer``).

    ``"fusion"`` is ``clamp(sigmoid(a / T) * 1.2 - 0.1, 0, 1)``: exactly 0 or 1 once
    ``|a| > T ln 11``, so generated masks can be binary while gradients flow in between.
    """

    def __init__(self, kind="fusion", temperature=0.66):
        super().__init__()
        self.kind = kind
        self.temperature = temperature

    def forward(self, logits):
        scaled = logits / self.temperature
        if self.kind == "sigmoid":
            return torch.sigmoid(scaled)
        if self.kind == "hardsigmoid":
            return scaled.clamp(0.0, 1.0)
        return (torch.sigmoid(scaled) * 1.2 - 0.1).clamp(0.0, 1.0)

    def extra_repr(self):
        return f"kind={self.kind!r}, temperature={self.temperature}"


def output_transform(kind, temperature=0.66):
    """``"data"`` gives the data generator's sigmoid; a mask transform name gives it."""
    if kind == "data":
        return nn.Sigmoid()
    return MaskTransform(kind, temperature)


class ConvGenerator(nn.Module):
    """The authors' MNIST DCGAN generator (DIM=64): latent -> (batch, 784).

    Linear to 256x4x4, then transposed convolutions 8x8 -> crop 7x7 -> 11x11 -> 28x28.
    """

    def __init__(self, latent_size=128, transform=None):
        super().__init__()
        dim = 64
        self.fc = nn.Linear(latent_size, 4 * 4 * 4 * dim)
        self.deconv1 = nn.ConvTranspose2d(4 * dim, 2 * dim, 5)
        self.deconv2 = nn.ConvTranspose2d(2 * dim, dim, 5)
        self.deconv_out = nn.ConvTranspose2d(dim, 1, 8, stride=2)
        self.transform = transform if transform is not None else nn.Sigmoid()

    def forward(self, latent):
        hidden = torch.relu(self.fc(latent)).view(-1, 256, 4, 4)
        hidden = torch.relu(self.deconv1(hidden))[:, :, :7, :7]
        hidden = torch.relu(self.deconv2(hidden))
        logits = self.deconv_out(hidden).flatten(1)
        return self.transform(logits)


class FCGenerator(nn.Module):
    """Fully connected generator: latent -> 256 -> 512 -> n_pixels, then the transform."""

    def __init__(self, latent_size=128, n_pixels=784, transform=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_size, 256),
            nn.ReLU(),
            nn.Linear(256, 512),
            nn.ReLU(),
            nn.Linear(512, n_pixels),
        )
        self.transform = transform if transform is not None else nn.Sigmoid()

    def forward(self, latent):
        return self.transform(self.net(latent))


class ConvCritic(nn.Module):
    """The authors' MNIST critic (DIM=64): three stride-2 convolutions, then a linear score."""

    def __init__(self):
        super().__init__()
        dim = 64
        self.net = nn.Sequential(
            nn.Conv2d(1, dim, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(dim, 2 * dim, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(2 * dim, 4 * dim, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4 * dim, 1),
        )

    def forward(self, images):
        return self.net(images.view(-1, 1, *CONV_IMAGE_SHAPE)).squeeze(1)


class FCCritic(nn.Module):
    """Fully connected critic: n_pixels -> 512 -> 256 -> 128 -> 1 (raw score)."""

    def __init__(self, n_pixels=784):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_pixels, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 1),
        )

    def forward(self, images):
        return self.net(images).squeeze(1)


class ComplementImputer(nn.Module):
    """The authors' default imputer: four ``n_pixels``-wide linear layers, ReLU, sigmoid out.

    Its input is the observed pixels with the noise in the holes; its raw output is
    returned (not composited), as in the released code.
    """

    def __init__(self, n_pixels=784):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_pixels, n_pixels),
            nn.ReLU(),
            nn.Linear(n_pixels, n_pixels),
            nn.ReLU(),
            nn.Linear(n_pixels, n_pixels),
            nn.ReLU(),
            nn.Linear(n_pixels, n_pixels),
            nn.Sigmoid(),
        )

    def forward(self, data, observed, noise):
        return self.net(observed * data + (1 - observed) * noise)


def build_networks(
    architecture="fc",
    n_pixels=784,
    latent_size=128,
    mask_transform="fusion",
    mask_temperature=0.66,
):
    """The six MisGAN networks in an ``nn.ModuleDict`` keyed by ``NETWORK_NAMES``.

    ``architecture="conv"`` uses the convolutional generators and critics (28x28
    images only); ``"fc"`` the fully connected ones.  The imputer is always the
    fully connected ``ComplementImputer``.  Parameters get PyTorch's default
    initialisation from the global RNG; use :func:`reset_parameters` to draw them
    from a local generator instead.
    """
    if architecture == "conv":
        if n_pixels != math.prod(CONV_IMAGE_SHAPE):
            raise ValueError(
                f'architecture="conv" is the authors\' 28x28 network and needs 784 '
                f'pixels, got {n_pixels}; use architecture="fc" for other image sizes.'
            )

        def generator(transform):
            return ConvGenerator(latent_size, transform)

        def critic():
            return ConvCritic()

    else:

        def generator(transform):
            return FCGenerator(latent_size, n_pixels, transform)

        def critic():
            return FCCritic(n_pixels)

    return nn.ModuleDict(
        {
            "data_generator": generator(output_transform("data")),
            "mask_generator": generator(output_transform(mask_transform, mask_temperature)),
            "data_critic": critic(),
            "mask_critic": critic(),
            "imputer_critic": critic(),
            "imputer": ComplementImputer(n_pixels),
        }
    )


@torch.no_grad()
def reset_parameters(module, generator):
    """PyTorch's default initialisation, drawn from ``generator`` (no global RNG).

    Linear, Conv2d and ConvTranspose2d layers get weights and biases uniform in
    ``±1/sqrt(fan_in)`` with torch's own ``fan_in`` (``weight.shape[1] * kernel
    area``), which is what ``kaiming_uniform_(a=sqrt(5))`` amounts to.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fan_in = layer.weight.shape[1] * math.prod(layer.weight.shape[2:])
            bound = 1.0 / math.sqrt(fan_in)
            layer.weight.uniform_(-bound, bound, generator=generator)
            if layer.bias is not None:
                layer.bias.uniform_(-bound, bound, generator=generator)


def make_optimizers(networks, learning_rate=1e-4, imputer_learning_rate=2e-4, betas=(0.5, 0.9)):
    """One Adam per network: ``learning_rate`` for the generators and their critics,
    ``imputer_learning_rate`` for the imputer and its critic (the authors' settings)."""
    fast = {"imputer", "imputer_critic"}
    return {
        name: torch.optim.Adam(
            network.parameters(),
            lr=imputer_learning_rate if name in fast else learning_rate,
            betas=tuple(betas),
        )
        for name, network in networks.items()
    }


def mask_data(data, observed, fill):
    """``observed * data + (1 - observed) * fill``: the authors' ``f_tau`` / compositing."""
    return observed * data + (1 - observed) * fill


def gradient_penalty(critic, real, fake, generator):
    """WGAN-GP penalty ``mean_b (||grad D(y_b)||_2 - 1)^2`` at ``y = xi*real + (1-xi)*fake``.

    ``xi ~ U(0, 1)`` is drawn per example from ``generator``.  The graph is kept
    (``create_graph=True``) so the penalty can be differentiated for the critic.
    """
    xi = torch.rand(real.shape[0], 1, generator=generator, device=real.device, dtype=real.dtype)
    interpolates = (xi * real + (1 - xi) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(
        critic(interpolates).sum(), interpolates, create_graph=True
    )
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def update_critic(critic, optimizer, real, fake, gp_lambda, generator):
    """One WGAN-GP step: minimise ``mean D(fake) - mean D(real) + lambda * penalty``.

    Returns the loss value (a float).
    """
    real, fake = real.detach(), fake.detach()
    loss = (
        critic(fake).mean()
        - critic(real).mean()
        + gp_lambda * gradient_penalty(critic, real, fake, generator)
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def _noise(shape_like, size, generator, uniform=False):
    draw = torch.rand if uniform else torch.randn
    return draw(
        *size, generator=generator, device=shape_like.device, dtype=shape_like.dtype
    )


def impute_batch(imputer, data, observed, generator):
    """Composited imputation ``m*x + (1-m)*imputer(x, m, omega)``, omega ~ U(0,1) per pixel.

    Returns ``(completed, raw_output)``.
    """
    noise = _noise(data, data.shape, generator, uniform=True)
    raw = imputer(data, observed, noise)
    return mask_data(data, observed, raw), raw


def critic_step(networks, optimizers, data, observed, *, tau, gp_lambda, latent_size, generator):
    """Update the data, mask and imputer critics once on a batch (the released order).

    ``data`` holds the observed pixels with 0 in the holes, ``observed`` is the float
    mask (1 = observed).  The data critic compares ``f_tau(x, m)`` with
    ``f_tau(G_x(z), G_m(eps))``, the mask critic ``m`` with ``G_m(eps)``, and the
    imputer critic the unmasked ``G_x(z)`` ("real") with the completed data ("fake").
    Returns ``{"data_critic": loss, "mask_critic": loss, "imputer_critic": loss}``.
    """
    batch = data.shape[0]
    with torch.no_grad():
        fake_data = networks["data_generator"](
            _noise(data, (batch, latent_size), generator)
        )
        completed, _ = impute_batch(networks["imputer"], data, observed, generator)
        fake_mask = networks["mask_generator"](_noise(data, (batch, latent_size), generator))
    pairs = {
        "data_critic": (mask_data(data, observed, tau), mask_data(fake_data, fake_mask, tau)),
        "mask_critic": (observed, fake_mask),
        "imputer_critic": (fake_data, completed),
    }
    return {
        name: update_critic(networks[name], optimizers[name], real, fake, gp_lambda, generator)
        for name, (real, fake) in pairs.items()
    }


def _step(optimizer, loss):
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _set_critics_trainable(networks, trainable):
    for name in ("data_critic", "mask_critic", "imputer_critic"):
        networks[name].requires_grad_(trainable)


def generator_step(
    networks,
    optimizers,
    data,
    observed,
    *,
    tau,
    alpha,
    beta,
    gamma,
    latent_size,
    generator,
    beta_form="released",
):
    """Update the mask generator, then the data generator, then the imputer (once each).

    Critic parameters are frozen meanwhile; each loss draws fresh noise.

    * mask generator: ``-mean D_m(G_m(eps)) - alpha * mean D_x(f_tau(G_x(z), G_m(eps)))``;
    * data generator: ``-mean D_x(f_tau(G_x(z), G_m(eps)))``, plus with
      ``beta_form="paper"`` the paper's ``beta * mean D_i(G_x(z))``.  In the released
      code (``"released"``) the beta term is ``beta * L_imp``, which depends on the
      imputer alone and so adds no gradient to G_x: it is omitted here;
    * imputer: ``L_imp = -mean D_i(m*x + (1-m)*imputer(x, m, omega))`` plus, when
      ``gamma > 0``, ``gamma`` times the mean-over-images squared error on the
      observed pixels.

    Returns ``{"mask_generator": loss, "data_generator": loss, "imputer": loss}``.
    """
    batch = data.shape[0]
    gen_x, gen_m = networks["data_generator"], networks["mask_generator"]
    d_x, d_m, d_i = networks["data_critic"], networks["mask_critic"], networks["imputer_critic"]
    _set_critics_trainable(networks, False)
    try:
        completed, raw = impute_batch(networks["imputer"], data, observed, generator)
        imputer_loss = -d_i(completed).mean()

        latent = _noise(data, (batch, latent_size), generator)
        fake_mask = gen_m(_noise(data, (batch, latent_size), generator))
        masked_fake = mask_data(gen_x(latent), fake_mask, tau)
        mask_loss = -d_m(fake_mask).mean() - alpha * d_x(masked_fake).mean()
        _step(optimizers["mask_generator"], mask_loss)

        fake_data = gen_x(_noise(data, (batch, latent_size), generator))
        fake_mask = gen_m(_noise(data, (batch, latent_size), generator))
        data_loss = -d_x(mask_data(fake_data, fake_mask, tau)).mean()
        if beta_form == "paper":
            data_loss = data_loss + beta * d_i(fake_data).mean()
        _step(optimizers["data_generator"], data_loss)

        if gamma > 0:
            squared = (raw - data) ** 2 * observed
            per_image = squared.sum(1) / observed.sum(1).clamp_min(1.0)
            imputer_loss = imputer_loss + gamma * per_image.mean()
        _step(optimizers["imputer"], imputer_loss)
    finally:
        _set_critics_trainable(networks, True)
    return {
        "mask_generator": mask_loss.item(),
        "data_generator": data_loss.item(),
        "imputer": imputer_loss.item(),
    }


def train_step(
    networks,
    optimizers,
    data,
    observed,
    *,
    update_generators,
    tau,
    alpha,
    beta,
    gamma,
    gp_lambda,
    latent_size,
    generator,
    beta_form="released",
):
    """One batch of MisGAN training: :func:`critic_step`, then, when
    ``update_generators`` (every ``n_critic``-th batch), :func:`generator_step`.

    Returns the losses of every network updated.
    """
    options = dict(tau=tau, latent_size=latent_size, generator=generator)
    losses = critic_step(networks, optimizers, data, observed, gp_lambda=gp_lambda, **options)
    if update_generators:
        losses.update(
            generator_step(
                networks, optimizers, data, observed, alpha=alpha, beta=beta, gamma=gamma,
                beta_form=beta_form, **options,
            )
        )
    return losses
