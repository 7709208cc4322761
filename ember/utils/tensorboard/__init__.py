"""``ember.utils.tensorboard``: torch.utils.tensorboard's ``SummaryWriter``, writing TensorBoard
event files by hand (TFRecord framing, CRC32C, the few protobuf messages), so that neither
TensorFlow, TensorBoard nor protobuf is needed to write them; TensorBoard reads them.

    from ember.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/demo") as writer:
        writer.add_scalar("loss/train", loss.item(), step)
"""

from .record import crc32c, masked_crc32c, read_records
from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter", "crc32c", "masked_crc32c", "read_records"]
