"""The ember workflow in one page: data, model, training with a live bar, checkpoint, resume.

python examples/train_digits_mlp.py        # about a second on a laptop
"""

from pathlib import Path

import ember
from ember import optim
from ember.data import DataLoader, load_digits, random_split
from ember.models import MLP
from ember.train import fit

ember.manual_seed(0)  # init, dropout and shuffling all repeat
shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "digits"
data = load_digits(root=shared if shared.is_dir() else None)  # else: cache or download
train_set, val_set = random_split(data.train, [0.9, 0.1])

model = MLP(data.in_features, hidden_sizes=(128,), num_classes=data.num_classes)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
train = DataLoader(train_set, batch_size=32, shuffle=True)
val, test = DataLoader(val_set, batch_size=512), DataLoader(data.test, batch_size=512)

run = Path("runs/example-digits")
history = fit(model, optimizer, train, val, epochs=10, run_dir=run, early_stopping=3)
# ... interrupted? Rebuild the same objects and continue exactly where the checkpoint stands:
history = fit(model, optimizer, train, val, epochs=20, run_dir=run, resume=run, test_loader=test)
print(f"test accuracy {100 * history.last('test')['accuracy']:.2f}%; run folder: {run}")

# The weights alone, as a plain safetensors file (loads in PyTorch too):
ember.save(model.state_dict(), run / "model.safetensors")
model.load_state_dict(ember.load(run / "model.safetensors"))
