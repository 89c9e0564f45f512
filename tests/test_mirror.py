"""tests/ mirrors the package: every module wikiart_jax/<pkg>/<mod>.py has its own
tests/<pkg>/test_<mod>.py (a package's __init__.py is tested with its modules)."""

import os

from conftest import ROOT
from test_layers import PACKAGE, find_modules


def expected_test_file(path: str) -> str:
  """'<root>/wikiart_jax/data/pipeline.py' -> 'tests/data/test_pipeline.py'."""
  folder, name = os.path.split(os.path.relpath(path, os.path.join(ROOT, PACKAGE)))
  return os.path.join('tests', folder, f'test_{name}')


def test_expected_test_file_names():
  assert expected_test_file(os.path.join(ROOT, PACKAGE, 'data', 'pipeline.py')) == os.path.join(
      'tests', 'data', 'test_pipeline.py')
  assert expected_test_file(os.path.join(ROOT, PACKAGE, 'apps', 'serve', 'app.py')) == os.path.join(
      'tests', 'apps', 'serve', 'test_app.py')
  assert expected_test_file(os.path.join(ROOT, PACKAGE, 'core.py')) == os.path.join(
      'tests', 'test_core.py')


def test_every_module_has_its_test_file():
  missing = sorted(
      f'{os.path.relpath(path, ROOT)} -> {expected_test_file(path)}'
      for path in find_modules(ROOT).values()
      if not path.endswith('__init__.py')
      and not os.path.isfile(os.path.join(ROOT, expected_test_file(path))))
  assert not missing, 'modules without their test file:\n' + '\n'.join(missing)
