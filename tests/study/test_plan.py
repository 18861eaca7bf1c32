"""Study plans: what a unit's fingerprint depends on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from v1mtl.common.config import load_config
from v1mtl.study import StudyConfig, build_plan

ALL_CONDITIONS = "conditions=[baseline, mtl, mtl-shuffled, mtl-random, noise-augmented, mtl-oracle]"


def test_fingerprints_do_not_depend_on_where_the_study_folder_lies(tmp_path: Path):
    cfg = lambda: load_config(StudyConfig, preset="study-smoke", overrides=[ALL_CONDITIONS])  # noqa: E731
    here = build_plan(cfg(), tmp_path / "here")
    moved = build_plan(cfg(), tmp_path / "elsewhere" / "moved")
    assert [(u.stage, u.name) for u in here.units] == [(u.stage, u.name) for u in moved.units]
    assert [u.fingerprint for u in here.units] == [u.fingerprint for u in moved.units]
    # the runs that read other units' files (targets, the Oracle's checkpoint) are among them
    assert {"mtl-s0", "mtl-oracle-s0"} <= {u.name for u in here.units if u.stage == "train"}


def test_a_changed_setting_still_changes_the_fingerprint(tmp_path: Path):
    base = build_plan(load_config(StudyConfig, preset="study-smoke"), tmp_path)
    changed = load_config(StudyConfig, preset="study-smoke", overrides=["train.optimizer.lr=0.123"])
    other = build_plan(changed, tmp_path)
    runs = lambda plan: {u.name: u.fingerprint for u in plan.units if u.stage == "train"}  # noqa: E731
    assert all(runs(base)[name] != fp for name, fp in runs(other).items())


def test_predictivity_follows_the_study_progress_setting(tmp_path: Path, monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(
        "v1mtl.evaluate.predictivity_stage.run_predictivity_stage",
        lambda *args, **kwargs: calls.append(kwargs),
    )
    for progress in (True, False):
        cfg = load_config(StudyConfig, preset="study-smoke", overrides=[f"progress={str(progress).lower()}"])
        plan = build_plan(cfg, tmp_path / str(progress))
        unit = next(u for u in plan.units if u.stage == "predictivity")
        unit.run(tmp_path / str(progress) / "predictivity")
        assert calls[-1]["progress"] is progress and calls[-1]["fit"] == cfg.fit


def test_the_oracle_readouts_and_targets_are_units_of_their_own(tmp_path: Path):
    cfg = load_config(StudyConfig, preset="study-smoke", overrides=[ALL_CONDITIONS])
    plan = build_plan(cfg, tmp_path)
    units = {(u.stage, u.name): u for u in plan.units}
    fit, targets = units[("fit", "oracle-s0")], units[("targets", "oracle-s0")]
    assert units[("train", "noise-augmented-s0")] in fit.upstream and fit in targets.upstream
    oracle_run = units[("train", "mtl-oracle-s0")]
    assert oracle_run.upstream == [targets]
    assert plan.units.index(targets) < plan.units.index(oracle_run)


def test_an_nwb_recording_is_read_with_the_studys_nwb_options(tmp_path: Path):
    pytest.importorskip("pynwb")
    import datetime

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage

    from v1mtl.data.neural import read_native

    nwb = NWBFile(
        session_description="t",
        identifier="t",
        session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )
    images = [GrayscaleImage(name=str(i), data=np.full((8, 8), 40 * i, dtype=np.uint8)) for i in range(3)]
    nwb.add_stimulus_template(Images(name="stimuli", images=images))
    nwb.add_trial_column("frame", "index of the image shown")
    for onset, image in enumerate([0, 1, 1, 2]):
        nwb.add_trial(start_time=float(onset), stop_time=onset + 0.5, frame=image)
    nwb.add_unit(spike_times=[0.3, 1.3, 2.05, 3.3])
    with NWBHDF5IO(str(tmp_path / "rec.nwb"), "w") as io:
        io.write(nwb)

    def v1_unit(*options: str):
        cfg = load_config(
            StudyConfig, preset="study-smoke", overrides=[f"v1.path={tmp_path / 'rec.nwb'}", *options]
        )
        return build_plan(cfg, tmp_path / "study").first.v1

    default, frame = (
        v1_unit("v1.nwb.image_column=frame"),
        v1_unit("v1.nwb.image_column=frame", "v1.nwb.window=[0.2, 0.4]"),
    )
    assert default.fingerprint != frame.fingerprint  # the options are part of what the unit reads
    frame.run(tmp_path / "out")
    session = read_native(tmp_path / "out" / "data").sessions[0]
    # in [0.2, 0.4) after onset: the spikes at 0.3, 1.3 and 3.3 count, the one at 2.05 does not
    np.testing.assert_array_equal(session.train_responses[:, 0], [1, 1])
    np.testing.assert_array_equal(session.test_responses[0, :, 0], [1, 0])


def test_a_pixel_similarity_run_needs_no_v1_unit_and_ignores_the_readout_settings(tmp_path: Path):
    def train_units(*overrides: str) -> dict:
        cfg = load_config(
            StudyConfig,
            preset="study-smoke",
            overrides=["conditions=[baseline, pixel-similarity]", *overrides],
        )
        plan = build_plan(cfg, tmp_path)
        return {u.name: u for u in plan.units if u.stage == "train"}, plan

    units, plan = train_units()
    run = units["pixel-similarity-s0"]
    assert run.upstream == [] and units["baseline-s0"].upstream == []
    assert not [u for u in plan.units if u.stage in ("fit", "targets")]  # no V1 model, no targets
    # its network is evaluated like any other: robustness and fresh readouts for predictivity
    evaluations = {u.stage for u in plan.units if run in u.upstream}
    assert {"robustness", "predictivity"} <= evaluations
    fingerprint = lambda *o: train_units(*o)[0]["pixel-similarity-s0"].fingerprint  # noqa: E731
    for ignored in (
        "train.model.readout=gaussian",
        "train.neural.loss=poisson",
        "train.neural.target_scaling=none",
        "train.noise.validation=false",
    ):
        assert fingerprint(ignored) == run.fingerprint, ignored
    for read in (
        "train.neural.weighting=fixed",
        "train.neural.ratio=2.0",
        "train.neural.batch_size=16",
        "train.model.width=0.25",
    ):
        assert fingerprint(read) != run.fingerprint, read


def test_a_vone_run_reads_the_front_end_settings_and_no_other_run_does(tmp_path: Path):
    def units(*overrides: str) -> dict:
        cfg = load_config(
            StudyConfig, preset="study-smoke", overrides=["conditions=[baseline, mtl, vone]", *overrides]
        )
        return {(u.stage, u.name): u for u in build_plan(cfg, tmp_path).units}

    plain = units()
    vone = plain[("train", "vone-s0")]
    assert vone.upstream == [] and vone.settings["model"]["front_end"] == "vone"
    # a network without a front end keeps the fingerprint it had before the front-end keys existed
    others = [u for key, u in plain.items() if key != ("train", "vone-s0")]
    assert [u.name for u in others if "front_end" in (u.settings.get("model") or {})] == []
    changed = units("train.model.vone.simple_channels=3", "fit.model.vone.seed=4")
    assert changed[("train", "vone-s0")].fingerprint != vone.fingerprint
    # (units downstream of the vone run change with it, the rest not)
    unchanged = [key for key, u in plain.items() if changed[key].fingerprint == u.fingerprint]
    assert {key for key in plain if "vone-s0" not in key[1] and key[0] not in ("analysis", "report")} == set(
        unchanged
    )
    # the V1 model itself may sit behind a VOneBlock: then its fit reads the settings
    fit = units("fit.model.front_end=vone")[("fit", "v1-model")]
    assert fit.fingerprint != plain[("fit", "v1-model")].fingerprint
