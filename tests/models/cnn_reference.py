"""Shared pieces of the CNN model tests."""


def randomise_bn(torch, model, seed=0):
    """Non-trivial BN parameters and running statistics, so eval mode is a real test."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(n, generator=g))
                m.bias.copy_(0.2 * torch.randn(n, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(1 + 0.3 * torch.rand(n, generator=g))
