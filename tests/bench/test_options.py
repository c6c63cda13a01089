"""Options are declared once: one ``option(...)`` field is a pytest option, an ini key and an A/B flag."""

from __future__ import annotations

import argparse

import pytest

from mnist_models.bench.options import add_ab_flags, ini_key, pytest_flag, read_ab_flags
from mnist_models.bench.settings import AfterRun, SuiteSettings, declared
from mnist_models.cli import build_parser

TOY_SETTINGS = """
from dataclasses import dataclass

from mnist_models.bench.settings import option
from mnist_models.parse import positive_int


@dataclass(frozen=True)
class Toy:
    widgets: int = option(3, "how many widgets to bring", positive_int, "N", ini=True, ab=True)
"""
TOY_CONFTEST = """
from mnist_models.bench.options import add_pytest_options, read_pytest_options
from toysettings import Toy


def pytest_addoption(parser):
    add_pytest_options(parser, Toy)


def pytest_configure(config):
    config.toy = read_pytest_options(config, Toy)


def pytest_report_header(config):
    return f"widgets: {config.toy.widgets}"
"""


def test_one_declaration_is_a_pytest_option_an_ini_key_and_an_ab_flag(pytester):
    pytester.makepyfile(toysettings=TOY_SETTINGS)
    pytester.syspathinsert()
    pytester.makeconftest(TOY_CONFTEST)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--mnist-widgets=N" in help_text
    assert "how many widgets to bring" in help_text
    assert "mnist_widgets" in help_text  # the ini key, listed under [pytest] ini-options
    pytester.makeini("[pytest]\nmnist_widgets = 5\n")
    pytester.runpytest().stdout.fnmatch_lines(["widgets: 5"])  # the ini key gives the default
    pytester.runpytest("--mnist-widgets=7").stdout.fnmatch_lines(["widgets: 7"])  # the command line wins
    pytester.runpytest("--mnist-widgets=0").stderr.fnmatch_lines(["*--mnist-widgets: must be above 0*"])
    from toysettings import Toy  # the same declaration, as a command's flag

    parser = argparse.ArgumentParser()
    add_ab_flags(parser, Toy)
    assert "--widgets N" in parser.format_help()
    assert read_ab_flags(parser.parse_args(["--widgets", "4"]), Toy) == Toy(widgets=4)
    assert read_ab_flags(parser.parse_args([]), Toy) == Toy()


def test_every_declared_setting_is_offered_where_it_says(pytester):
    help_text = pytester.runpytest("--help").stdout.str()
    ab_help = build_parser()._subparsers._group_actions[0].choices["ab"].format_help()
    for settings_class in (SuiteSettings, AfterRun):
        for item, option in declared(settings_class):
            assert pytest_flag(item) in help_text, item.name
            ini_section = help_text.split("[pytest] ")[1]  # pytest lists the ini keys after its options
            assert (f"  {ini_key(item)} (" in ini_section) == option.ini, item.name
            assert (f"--{item.name.replace('_', '-')} " in ab_help) == option.ab, item.name


def test_a_bad_ini_value_names_its_key(pytester):
    pytester.makeini("[pytest]\nmnist_threads = many\n")
    result = pytester.runpytest_subprocess()
    result.stderr.fnmatch_lines(["*ini key mnist_threads = 'many': 'many' is not a whole number*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
