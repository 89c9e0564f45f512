"""The package's layers: every import (in-function ones too) points down, no cycles.

The order is declared once, here. A module's layer is its subpackage's (or, for a
top-level module, its own name's). Imports within one layer are allowed but may
not form a cycle between modules.
"""

import ast
import os

import pytest

from conftest import ROOT

PACKAGE = 'wikiart_jax'
# Bottom first. A layer may import only from itself and the layers before it.
LAYERS = (
    ('core',),
    ('text', 'metrics', 'plots', 'parallel', 'locking', 'atomic'),
    ('data',),
    ('models',),
    ('convert', 'checkpointing'),
    ('factory',),
    ('inference',),
    ('evaluators',),
    ('train',),
    ('apps',),
)
RANK = {room: i for i, layer in enumerate(LAYERS) for room in layer}


def find_modules(top: str) -> dict[str, str]:
  """Dotted module name -> file path, for every module of the package under `top`."""
  found = {}
  for folder, _, files in os.walk(os.path.join(top, PACKAGE)):
    for name in files:
      if name.endswith('.py'):
        path = os.path.join(folder, name)
        dotted = os.path.relpath(path, top)[:-3].replace(os.sep, '.')
        found[dotted.removesuffix('.__init__')] = path
  return found


def _resolve(name: str, modules) -> str | None:
  """The module (or package) of ours that an imported dotted name lives in."""
  while name and name not in modules:
    name = name.rpartition('.')[0]
  return name or None


def imports_of(module: str, modules: dict[str, str]) -> set[str]:
  """Our modules that `module` imports anywhere in its body, functions included."""
  path = modules[module]
  is_package = path.endswith('__init__.py')
  with open(path, encoding='utf-8') as f:
    tree = ast.parse(f.read(), path)
  names = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names += [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      if node.level:  # relative: resolve against this module's package
        base = module if is_package else module.rpartition('.')[0]
        for _ in range(node.level - 1):
          base = base.rpartition('.')[0]
        source = f'{base}.{node.module}' if node.module else base
      else:
        source = node.module or ''
      # `from pkg import mod` imports the module; `from mod import name` the module.
      names += [f'{source}.{a.name}' if f'{source}.{a.name}' in modules else source
                for a in node.names]
  targets = set()
  for name in names:
    if name.split('.')[0] != PACKAGE:
      continue
    resolved = _resolve(name, modules)
    # A package's __init__ runs before any of its modules: not an edge of ours.
    if resolved and resolved != module and not module.startswith(resolved + '.'):
      targets.add(resolved)
  return targets


def room(module: str) -> str:
  """'wikiart_jax.data.pipeline' -> 'data'; 'wikiart_jax.factory' -> 'factory'."""
  parts = module.split('.')
  return parts[1] if len(parts) > 1 else ''


MODULES = find_modules(ROOT)
GRAPH = {m: imports_of(m, MODULES) for m in MODULES}


def test_every_subpackage_and_top_module_has_a_layer():
  rooms = {room(m) for m in MODULES if m != PACKAGE}
  assert rooms - set(RANK) == set(), 'declare these in LAYERS'


@pytest.mark.parametrize('module', sorted(m for m in MODULES if m != PACKAGE))
def test_imports_point_down(module):
  upward = sorted(t for t in GRAPH[module] if RANK[room(t)] > RANK[room(module)])
  assert not upward, f'{module} imports from a higher layer: {upward}'


def test_no_import_cycle_between_modules():
  # Depth-first search for a back edge; report the cycle it closes.
  state, stack = {}, []

  def visit(module):
    state[module] = 'open'
    stack.append(module)
    for target in sorted(GRAPH[module]):
      if state.get(target) == 'open':
        cycle = stack[stack.index(target):] + [target]
        pytest.fail('import cycle: ' + ' -> '.join(cycle))
      if target not in state:
        visit(target)
    stack.pop()
    state[module] = 'done'

  for module in sorted(GRAPH):
    if module not in state:
      visit(module)


def test_the_reader_finds_in_function_and_relative_imports(tmp_path):
  package = tmp_path / PACKAGE
  (package / 'data').mkdir(parents=True)
  (package / '__init__.py').write_text('')
  (package / 'core.py').write_text('')
  (package / 'data' / '__init__.py').write_text('')
  (package / 'data' / 'low.py').write_text(
      'import os\n\ndef late():\n  from wikiart_jax.apps import app  # hidden upward\n')
  (package / 'data' / 'side.py').write_text('from . import low\nfrom .. import core\n')
  (package / 'apps').mkdir()
  (package / 'apps' / '__init__.py').write_text('')
  (package / 'apps' / 'app.py').write_text('')
  modules = find_modules(str(tmp_path))
  assert imports_of(f'{PACKAGE}.data.low', modules) == {f'{PACKAGE}.apps.app'}
  assert imports_of(f'{PACKAGE}.data.side', modules) == {f'{PACKAGE}.data.low',
                                                         f'{PACKAGE}.core'}
