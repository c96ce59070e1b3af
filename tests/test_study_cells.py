"""The study's grid (videomae.study.cells): every finding's cells, each piece of work once,
and the demo's default regime read from SETTINGS, not written into the grid."""

from __future__ import annotations

import dataclasses

import pytest

from videomae.data.synthetic import ACTIONS
from videomae.demo_recipe import SETTINGS
from videomae.study.cells import SHIFTED, TARGET, StudySettings, plan_study, study_settings


def _tables(plan):
    out = {}
    for row in plan.rows:
        out.setdefault(row.table, []).append(row)
    return out


def test_default_grid_has_every_cell_of_the_three_findings():
    plan = plan_study(study_settings("default"))
    tables = _tables(plan)
    masking = {(r.fields["mask_kind"], r.fields["mask_ratio"]) for r in tables["masking"]}
    assert masking == {(k, r) for k in ("tube", "random") for r in (0.5, 0.75, 0.9, 0.95)}
    assert all(set(r.results) == {"finetune", "probe"} for r in tables["masking"])
    labels = {(r.fields["init"], r.fields["num_labels"]) for r in tables["labels"]}
    assert labels == {(i, n) for i in ("pretrained", "scratch") for n in (50, 100, 200, 800)}
    assert [r.cell for r in tables["domain"]][0] == "in-domain, 500 clips"
    assert len(tables["domain"]) == 3
    # 8 masking cells + small in-domain + shifted; the full in-domain one is the default cell
    assert len(plan.pretrain) == 10
    assert len({r.cell for r in plan.rows}) == len(plan.rows)


def test_default_cell_is_shared_between_tables():
    st = study_settings("default")
    plan = plan_study(st)
    tables = _tables(plan)
    (default,) = [r for r in tables["masking"] if r.fields["default"]]
    assert (default.fields["mask_kind"], default.fields["mask_ratio"]) == (
        st.demo.mask_kind,
        st.demo.mask_ratio,
    )
    ft = default.results["finetune"]
    pre = plan.finetune[ft].init
    labelled = [r for r in tables["labels"] if r.fields["init"] == "pretrained"]
    assert {plan.finetune[r.results["finetune"]].init for r in labelled} == {pre}
    same_labels = [r for r in labelled if r.fields["num_labels"] == st.demo.num_train]
    assert same_labels[0].results["finetune"] == ft
    assert tables["domain"][-1].results["finetune"] == ft
    scratch = [r for r in tables["labels"] if r.fields["init"] == "scratch"]
    assert all(plan.finetune[r.results["finetune"]].init is None for r in scratch)


def test_default_regime_follows_settings_not_the_grid():
    demo = dataclasses.replace(SETTINGS["default"], mask_kind="tube", mask_ratio=0.8)
    plan = plan_study(StudySettings(demo))
    masking = [r for r in plan.rows if r.table == "masking"]
    ratios = sorted({r.fields["mask_ratio"] for r in masking})
    assert ratios == [0.5, 0.75, 0.8, 0.9, 0.95]
    (default,) = [r for r in masking if r.fields["default"]]
    assert (default.fields["mask_kind"], default.fields["mask_ratio"]) == ("tube", 0.8)
    for cell in plan.pretrain.values():  # everything but the masking is the demo's
        assert cell.settings.pretrain_steps == demo.pretrain_steps
        assert cell.settings.model == demo.model
    domain_pre = {
        plan.finetune[r.results["finetune"]].init for r in plan.rows if r.table == "domain"
    }
    assert {plan.pretrain[k].settings.mask_ratio for k in domain_pre} == {0.8}


def test_datasets_target_and_shifted():
    st = study_settings("default")
    plan = plan_study(st)
    target, shifted = plan.data[TARGET], plan.data[SHIFTED]
    assert target.num_train == 800 and target.num_val == 0
    assert target.classes == st.demo.classes
    assert shifted.classes == ACTIONS[4:] and not set(shifted.classes) & set(target.classes)
    assert shifted.style["background"] != target.style["background"]
    assert shifted.num_train == shifted.num_test == 0
    assert shifted.num_unlabeled == st.demo.num_unlabeled


def test_quick_grid_fits_its_data_and_bad_pool_is_refused():
    plan = plan_study(study_settings("quick"))
    assert max(c.num_labels for c in plan.finetune.values()) <= plan.data[TARGET].num_train
    small = StudySettings(SETTINGS["quick"], small_unlabeled=10**6)
    with pytest.raises(ValueError, match="small_unlabeled"):
        plan_study(small)
    with pytest.raises(ValueError, match="mode must be one of"):
        study_settings("huge")
