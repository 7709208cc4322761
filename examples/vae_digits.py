"""A variational autoencoder (Kingma & Welling 2014) on the 8×8 digits, with ember.distributions.

    q(z|x) = N(μ(x), σ(x)²)             the encoder: an MLP gives μ and log σ
    p(x|z) = Bernoulli(logits = f(z))   the decoder, per pixel (intensities in [0, 1])
    ELBO   = E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I))

The expectation is one reparameterised draw, z = μ + σ·ε (``rsample``), so the gradient of
the ELBO reaches the encoder through z; the KL between two normals is closed-form
(``kl_divergence``).

python examples/vae_digits.py        # a few seconds on a laptop
"""

from pathlib import Path

import ember
import ember.distributions as D
from ember import nn, optim
from ember.data import DataLoader, load_digits

ember.manual_seed(0)
shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "digits"
data = load_digits(root=shared if shared.is_dir() else None)  # else: cache or download
LATENT = 4


class VAE(nn.Module):
    def __init__(self, d: int, latent: int = LATENT, hidden: int = 128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def posterior(self, x) -> D.Distribution:
        mu, log_sigma = self.encoder(x).chunk(2, dim=-1)
        return D.Independent(D.Normal(mu, log_sigma.exp()), 1)

    def elbo(self, x):
        """One-sample ELBO per example (nats)."""
        q = self.posterior(x)
        z = q.rsample()  # z = μ + σ·ε: differentiable in μ and σ
        likelihood = D.Independent(D.Bernoulli(logits=self.decoder(z), validate_args=False), 1)
        prior = D.Independent(D.Normal(ember.zeros(LATENT), ember.ones(LATENT)), 1)
        return likelihood.log_prob(x) - D.kl_divergence(q, prior)


def pixels(batch):
    x, _ = batch
    return x.reshape(x.shape[0], -1)  # (N, 64) intensities in [0, 1]


def test_elbo(model) -> float:
    with ember.no_grad():
        return sum(model.elbo(pixels(b)).sum().item() for b in test) / len(data.test)


model = VAE(data.in_features)
opt = optim.Adam(model.parameters(), lr=2e-3)
train = DataLoader(data.train, batch_size=64, shuffle=True)
test = DataLoader(data.test, batch_size=512)
print(f"test ELBO before training: {test_elbo(model):.2f} nats per digit")
for epoch in range(1, 31):
    total = 0.0
    for batch in train:
        loss = -model.elbo(pixels(batch)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * batch[0].shape[0]
    if epoch % 10 == 0:
        print(f"epoch {epoch:2d}: train −ELBO {total / len(data.train):.2f}")
print(f"test ELBO after training: {test_elbo(model):.2f} nats per digit")

# New digits: decode draws from the prior
with ember.no_grad():
    z = ember.randn(8, LATENT)
    samples = D.Bernoulli(logits=model.decoder(z)).probs.reshape(8, 8, 8)
print("mean intensity of 8 sampled digits:", f"{samples.mean().item():.3f}")
