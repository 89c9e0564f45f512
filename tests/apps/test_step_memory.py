"""step_memory: a config's train step sized from XLA's buffer assignment, per stage."""

import pytest

import demo
from wikiart_jax.apps import step_memory


@pytest.mark.slow  # two compiles of a train step: ~30 s on the shared 2-core machine
def test_each_stage_is_sized_and_a_frozen_backbone_holds_less():
  config = demo.get_config('tiny')
  config.train.stages = '0:heads, 2:all'
  config.train.grad_accum_steps = 2
  before = config.to_dict()
  heads, everything = step_memory.xla_memory(config)
  assert config.to_dict() == before  # the caller's config is not written
  for row in (heads, everything):
    assert row['total'] == (row['arguments'] + row['outputs'] - row['aliased']
                            + row['temporaries'])
    assert row['aliased'] > 0  # the donated train state
  assert 'heads' in heads['stage']
  # Frozen: no optimizer state and no gradient for the backbone.
  assert heads['arguments'] < everything['arguments']
  assert heads['total'] < everything['total']


def test_an_unknown_scheduler_is_refused_before_compiling():
  with pytest.raises(ValueError, match=r"scheduler must be one of \['default', 'memory'\], got 'fast'"):
    step_memory.xla_memory(demo.get_config('tiny'), 'fast')
