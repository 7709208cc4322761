"""The sections of examples/seed_tour.py, in the seed's order: (name, title, function).

Each function takes the ``Tour`` (output folder, --quick, data folder), writes one figure
``NN_<name>.png``, prints what it shows and returns the numbers it measured.
"""

from .attention import attention
from .basics import activations, backprop, optimizers
from .common import Tour, shared_data_dir
from .depth import dead_relus, initialisation
from .recurrent import clipping, lstm_gates, vanishing
from .vision import cnn, transfer

SECTIONS = [
    ("activations", "Activation functions and their derivatives", activations),
    ("backprop", "Backpropagation: the graph and a gradient check", backprop),
    ("optimizers", "The training loop: SGD, momentum, RMSprop, Adam", optimizers),
    ("initialisation", "Initialisation, batch norm and residual connections", initialisation),
    ("dead_relus", "Dead ReLUs: a learning rate too high", dead_relus),
    ("vanishing", "Vanilla RNN against LSTM and GRU: the gradient through time", vanishing),
    ("lstm_gates", "The LSTM's gates at work", lstm_gates),
    ("clipping", "Exploding gradients and gradient clipping", clipping),
    ("cnn", "A CNN's filters and feature maps", cnn),
    ("attention", "Transformers: self-attention, multi-head, positional encodings", attention),
    ("transfer", "Transfer learning", transfer),
]

__all__ = ["SECTIONS", "Tour", "shared_data_dir"]
