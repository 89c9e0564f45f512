"""The suite's own scheduling (tests/conftest.py): the files it sends out first exist,
and `make test` keeps the order it gives them."""

import os

from conftest import LONGEST_FILES
from conftest import ROOT


def test_the_files_sent_first_exist():
  missing = [name for name in LONGEST_FILES if not os.path.isfile(os.path.join(ROOT, name))]
  assert not missing, f'tests/conftest.py LONGEST_FILES names files that are gone: {missing}'


def test_make_test_keeps_the_conftest_order():
  with open(os.path.join(ROOT, 'Makefile'), encoding='utf-8') as f:
    args = next(line for line in f if line.startswith('PYTEST_ARGS'))
  assert '--dist loadfile' in args and '--no-loadscope-reorder' in args, args
