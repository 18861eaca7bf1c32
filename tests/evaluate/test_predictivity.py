import torch
from torch import nn

from v1mtl.evaluate.predictivity import core_state_dict
from v1mtl.models import ModelConfig, build_network
from v1mtl.models.trunk import frozen_trunk
from v1mtl.training import LoadedNetwork

CFG = ModelConfig(arch="vgg11", width=0.0625, hidden=16)


def _loaded() -> LoadedNetwork:
    torch.manual_seed(0)
    net = build_network(CFG, n_classes=3, sessions=None, image_size=32).eval()
    # non-trivial BatchNorm statistics, so that a reset would show
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    return LoadedNetwork(net, CFG, 0.45, 0.22, 32, "mem", "net")


def test_core_beyond_the_shared_block_rebuilds_the_same_trunk():
    loaded = _loaded()
    extractor, k, name = frozen_trunk(loaded.net, CFG, "relu4_1")
    assert name == "relu4_1" and k > len(loaded.net.shared)
    state = core_state_dict(loaded, k)
    assert all(key.startswith("shared.") for key in state)
    rebuilt = build_network(
        ModelConfig(**{**CFG.__dict__, "shared_layer": k}), n_classes=None, sessions={"s": 2}, image_size=32
    )
    rebuilt.shared.load_state_dict({key[len("shared.") :]: v for key, v in state.items()}, strict=True)
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(rebuilt.eval().shared_features(x), extractor(x))


def test_frozen_trunk_keeps_batch_norm_statistics_in_training_mode():
    loaded = _loaded()
    extractor, _, _ = frozen_trunk(loaded.net, CFG, "relu2_1")
    before = {k: v.clone() for k, v in extractor.state_dict().items()}
    extractor.train()
    assert not extractor.training and not any(m.training for m in extractor.modules())
    extractor(torch.randn(4, 1, 32, 32) * 5 + 3)
    for key, value in extractor.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)
    assert not any(p.requires_grad for p in extractor.parameters())
