"""torch.nn.modules.rnn at torch's path: RNNBase (of RNN, LSTM, GRU) and RNNCellBase (of
RNNCell, LSTMCell, GRUCell). (Not here: torch's deprecated apply_permutation helper.)"""

from ..rnn import GRU, LSTM, RNN, RNNBase
from ..rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]
