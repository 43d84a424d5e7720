"""Options are read one way (command line, else ini), converted once with the shared converters,
and not read again after configure."""

import json

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules: a second import aborts)
import pytest

from pytest_ipfs_accel import settings
from pytest_ipfs_accel.settings import OptionValueError, given


def test_the_command_line_wins_over_the_ini_and_says_where_a_value_came_from(pytester):
    pytester.makeini("[pytest]\nipfs_db = from-ini.duckdb\nipfs_report = r.md\n")
    sub = pytester.mkdir("sub")
    config = pytester.parseconfig("--ipfs-db=from-cli.duckdb")
    db, report = given(config, "ipfs_db"), given(config, "ipfs_report")
    assert (db.text, db.where, db.base) == ("from-cli.duckdb", "--ipfs-db", pytester.path)
    assert (report.text, report.where, report.base) == ("r.md", "ini ipfs_report", pytester.path)
    assert given(config, "ipfs_no_such_option").raw is None  # not registered: not given
    assert sub.is_dir()


@pytest.mark.parametrize(("raw", "value"), [("7", 7.0), (" 0.5 ", 0.5), ("86400", 86400.0)])
def test_browser_timeout_converter(raw, value):
    assert settings.browser_timeout(raw) == value


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf", "86401"])
def test_browser_timeout_converter_refuses(raw):
    with pytest.raises(OptionValueError, match=r"is not a number of seconds between 0 and 86400 \(e.g. 60\)"):
        settings.browser_timeout(raw)


@pytest.mark.parametrize(("ini", "message"), [
    ("ipfs_db_timeout = soon", "ini ipfs_db_timeout: 'soon' is not a number of seconds >= 0."),
    ("ipfs_browser_timeout = 0", "ini ipfs_browser_timeout: '0' is not a number of seconds between 0 and 86400"),
    ("ipfs_device_lock = everywhere", "ini ipfs_device_lock: 'everywhere' is not one of run, machine"),
    ("ipfs_benchmark_rounds = many", "ini ipfs_benchmark_rounds: 'many' is not an integer >= 1."),
    ("ipfs_benchmark_settle = soon", "ini ipfs_benchmark_settle: 'soon' is not a number of seconds >= 0."),
    ("ipfs_fail_on_regression = ten", "ini ipfs_fail_on_regression: 'ten' is not a percentage >= 0"),
    ("ipfs_seed = -1", "ini ipfs_seed: '-1' is not an integer from 0 to 4294967295."),
    ("ipfs_report = r.pdf", "ini ipfs_report: r.pdf: cannot tell the report format"),
    ("ipfs_expectations = missing.toml", "ini ipfs_expectations: 'missing.toml': no file there"),
])
def test_a_bad_ini_value_names_the_ini_key(pytester, ini, message):
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest("--co", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_bad_command_line_value_names_the_option(pytester):
    pytester.makeini("[pytest]\nipfs_browser_timeout = 5\n")
    result = pytester.runpytest("--co", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-browser-timeout=soon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--ipfs-browser-timeout: 'soon' is not a number of seconds between 0 and 86400" in result.stderr.str()


SPY = '''
import json
import pytest

READ = []


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """From here on, record every ipfs_* option read with getoption / getini."""
    for name in ("getoption", "getini"):
        def spy(key, *args, _real=getattr(config, name), **kwargs):
            if str(key).startswith("ipfs_"):
                READ.append(str(key))
            return _real(key, *args, **kwargs)
        setattr(config, name, spy)


def pytest_unconfigure(config):
    with open("read-after-configure.json", "w") as f:
        json.dump(sorted(set(READ)), f)
'''


@pytest.mark.slow
def test_nothing_reads_an_ipfs_option_after_configure(pytester):
    """Items, reports, the recorder, the report and the session end use the settings resolved at configure."""
    pytester.makeconftest(SPY)
    pytester.makefile(".toml", **{"ipfs-expectations": '[[expect]]\nmodel = "bert"\nkind = "load"\n'
                                                       'expected = "pass"\n'})
    result = pytester.runpytest_subprocess(
        "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-require-accelerator",
        f"--ipfs-db={pytester.path / 'r.duckdb'}", f"--ipfs-report={pytester.path / 'r.md'}",
        "--ipfs-db-timeout=3", "--ipfs-browser-timeout=9", "--ipfs-compare=last", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)
    assert json.loads((pytester.path / "read-after-configure.json").read_text()) == []
