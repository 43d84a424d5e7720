"""The expectations file in real runs: markers applied, strict xpass, skips, tolerance overrides,
failure classes on the reports and in the terminal summary, and bad files as usage errors."""

from __future__ import annotations

import pytest

OV = ("--ipfs-models=bert", "--ipfs-hw=cpu,openvino", "--ipfs-db=none", "-rxXs")


def test_xfail_strict_skip_and_tolerance_override(run, failures, planted) -> None:
    result = run(*OV, "--ipfs-kinds=load,forward,parity", expectations=planted)
    result.assert_outcomes(passed=2, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["[[]XPASS(strict)[]] planted: this passes",
                                 "SKIPPED [[]1[]] ipfs/test_bert.py:*: planted skip"])
    got = failures()
    parity = got["ipfs/test_bert.py::test_parity[openvino]"]
    assert (parity["failure_class"], parity["expected"], parity["executed_on"]) == ("numeric", "xfail", "CPU")
    assert 0 < parity["max_abs_diff"] < 1e-3 and parity["max_rel_diff"] > 0  # fails only the planted bound
    assert got["ipfs/test_bert.py::test_forward[openvino]"]["failure_class"] == "xpass"
    assert len(got) == 2
    result.stdout.fnmatch_lines(["*ipfs-accel failures by class*", "numeric*1*(1 xfailed)*", "xpass*1*(1 failed)*",
                                 "*numeric*xfailed*test_parity[[]openvino[]]*max |diff|*expected xfail*"])


def test_export_failures_are_classified_and_an_expected_pass_fails(run, failures) -> None:
    rules = '[[expect]]\nmodel = "whisper"\nplatform = "openvino"\nkind = "forward"\nexpected = "pass"\n'
    result = run("--ipfs-models=whisper", "--ipfs-hw=openvino", "--ipfs-kinds=load,forward", "--ipfs-db=none",
                 expectations=rules)
    result.assert_outcomes(failed=1, xfailed=1)
    got = failures()
    load, forward = (got[f"ipfs/test_whisper.py::test_{kind}[openvino]"] for kind in ("load", "forward"))
    assert (load["failure_class"], load["expected"]) == ("export", None)
    assert (forward["failure_class"], forward["expected"]) == ("export", "pass")
    result.stdout.fnmatch_lines(["*openvino: cannot export whisper: OV convert_model*"
                                 "(the expectations file says this passes)*"])


@pytest.mark.slow
def test_failure_classes_survive_xdist(run, failures, planted) -> None:
    pytest.importorskip("xdist")
    result = run(*OV, "--ipfs-kinds=parity", "-n", "2", expectations=planted)
    result.assert_outcomes(xfailed=1)
    assert failures()["ipfs/test_bert.py::test_parity[openvino]"]["failure_class"] == "numeric"


@pytest.mark.parametrize(("text", "args", "message"), [
    ('[[expect]]\nmodel = "bert"\nexpected = "maybe"\n', (),
     "ERROR: */ipfs-expectations.toml: [[][[]expect[]][]] #1: expected = 'maybe'; use one of pass, xfail, skip"),
    (None, ("--ipfs-expectations=missing.toml",),
     "ERROR: --ipfs-expectations: 'missing.toml': no file there (looked at */missing.toml); create it or pass 'none'"),
])
def test_bad_expectations_are_usage_errors(run, text, args, message) -> None:
    result = run("--ipfs-models=bert", "--ipfs-hw=cpu", *args, expectations=text)
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


def test_none_ignores_the_default_file(run) -> None:
    result = run("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-db=none",
                 "--ipfs-expectations=none", expectations='[[expect]]\nexpected = "broken"\n')
    result.assert_outcomes(passed=1)


def test_the_file_applies_to_emitted_test_files(run, pytester) -> None:
    assert run("--ipfs-models=gpt2", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-emit=out").ret == 0
    rules = '[[expect]]\nmodel = "gpt2"\nplatform = "c*"\nexpected = "skip"\nreason = "planted on emitted files"\n'
    result = run("out", "--ipfs-db=none", "-rs", expectations=rules)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] out/test_gpt2.py:*: planted on emitted files"])
