"""The study presets load, validate, and stay in step with the single-command presets they repeat."""

import pytest

from v1mtl.common.config import available_presets, config_to_dict, load_config
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.study import StudyConfig
from v1mtl.training import TrainConfig

# keys the study presets shorten on purpose (fewer images / epochs to fit a time budget)
SHORTENED = {"data.builtin_counts", "schedule.max_epochs", "training.max_epochs", "logging.tensorboard"}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(_flat(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


@pytest.mark.parametrize("name", ["quick", "builtin-full", "smoke", "ablation", "ratio-sweep", "which-v1"])
def test_study_presets_load_and_validate(name):
    assert name in available_presets("study")
    load_config(StudyConfig, preset=f"study-{name}").validate().step_configs()


@pytest.mark.parametrize("name", ["quick", "builtin-full", "ablation", "ratio-sweep", "which-v1"])
def test_builtin_study_presets_repeat_the_quick_command_presets(name):
    study = load_config(StudyConfig, preset=f"study-{name}")
    for section, schema, preset in (
        ("train", TrainConfig, "train-quick"),
        ("fit", FitNeuralConfig, "fit-neural-quick"),
    ):
        want = _flat(config_to_dict(load_config(schema, preset=preset)))
        got = _flat(config_to_dict(getattr(study, section)))
        differ = (
            {k for k in want if want[k] != got[k]}
            - SHORTENED
            - {"condition", "seed", "progress", "logging.progress"}
        )
        assert not differ, f"study-{name}.{section} differs from {preset} in {sorted(differ)}"


def test_paper_study_needs_the_users_data():
    cfg = load_config(StudyConfig, preset="study-paper")
    assert (
        cfg.v1.path.startswith("<set v1.path")
        and cfg.train.model.arch == "vgg19"
        and cfg.train.model.width == 1.0
    )


def test_ablation_ladder_starts_at_builtin_full_and_ends_at_the_papers_recipe():
    ladder = dict(load_config(StudyConfig, preset="study-ablation").step_configs())
    full = load_config(StudyConfig, preset="study-builtin-full")
    assert config_to_dict(ladder["default"].train) == config_to_dict(full.train)
    assert config_to_dict(ladder["default"].fit) == config_to_dict(full.fit)
    paper = load_config(TrainConfig, preset="train-paper")
    last = ladder["resolution"].train
    for key in ("neural.weighting", "neural.target_scaling", "model.readout", "model.readout_output"):
        section, name = key.split(".")
        assert getattr(getattr(last, section), name) == getattr(getattr(paper, section), name), key
    assert last.schedule.kind == paper.schedule.kind and last.data.image_size == paper.data.image_size
    assert ladder["simulator"].targets.source == "simulator" and ladder["weighting"].targets.source == "model"


def test_quick_answers_claim_one_with_three_seeds():
    quick = load_config(StudyConfig, preset="study-quick")
    assert {"baseline", "mtl", "mtl-shuffled"} <= set(quick.conditions) and len(quick.seeds) >= 3


@pytest.mark.parametrize(("name", "limit"), [("smoke", 20), ("quick", 100), ("builtin-full", 200)])
def test_builtin_presets_attack_every_network_on_few_images(name, limit):
    adversarial = load_config(StudyConfig, preset=f"study-{name}").adversarial
    assert adversarial.enabled and adversarial.limit == limit and adversarial.steps <= 5
    assert adversarial.eot_samples is None  # chosen per network: EOT for a stochastic one


def test_which_v1_puts_every_way_of_a_v1_bias_beside_three_ablation_teachers():
    cfg = load_config(StudyConfig, preset="study-which-v1").validate()
    assert cfg.teachers[0] == "full" and len(cfg.teachers) >= 4 and len(cfg.seeds) >= 3
    assert {"baseline", "mtl", "vone", "pixel-similarity"} <= set(cfg.conditions)
    steps = dict(cfg.step_configs())
    assert [steps[t].v1.simulate.ablation for t in cfg.teachers] == cfg.teachers
    # the quick recipe: the same training as the README's main job
    quick = load_config(StudyConfig, preset="study-quick")
    assert config_to_dict(cfg.train.schedule) == config_to_dict(quick.train.schedule)
