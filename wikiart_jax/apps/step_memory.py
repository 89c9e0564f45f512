"""XLA's buffer assignment of a config's train step: its memory, sized without running it.

The model, the train state and the batch are shapes only (nothing allocated, nothing
read from the hub), so the step of a multi-billion-parameter config (BLIP-2 with
OPT-2.7B or Flan-T5-XL) is compiled and sized on a laptop CPU; the 24 GB configs
quote this figure as their estimate:

    python benchmarks/step_memory.py --configs=configs/blip2_opt27b_caption.py

The figures are the compiling backend's: a GPU build fuses and schedules
differently, so the peak it reaches (`mode=bench`) is the measurement. Two CPU
habits would overstate a GPU step, and neither is the step's own:
- XLA's CPU backend has no bfloat16 x bfloat16 -> bfloat16 matmul: it upcasts the
  operands to float32 copies. The frozen language models' matmuls therefore
  accumulate in float32 (models/wide_accumulation.py), which the CPU runs on the
  bfloat16 weights as they are; the tower's bfloat16 compute on float32 weights
  still gets a rounded float32 copy of each weight on a CPU (a bfloat16 one on a GPU).
- The CPU's default instruction scheduler orders for concurrency: it runs every
  such weight conversion early, so all of them are alive together.
  `SCHEDULERS['memory']` compiles with the CPU's memory-optimised scheduler
  instead, as a GPU's scheduler also minimises memory; `'default'` keeps the
  CPU's.
XLA_FLAGS=--xla_dump_to=<dir> writes the buffer assignment's memory-usage report,
which names the largest buffers by shape.
"""

import copy

import jax
import ml_collections
from flax import nnx

from wikiart_jax import factory
from wikiart_jax.apps import bench
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import trainer as trainer_lib


def abstract_batch(config: ml_collections.ConfigDict, num_classes: dict, caption_vocab: int,
                   mesh) -> dict:
  """bench's random training batch as shapes, laid out as the step wants it."""
  shapes = jax.eval_shape(bench.batch_maker(config, num_classes, caption_vocab),
                          jax.random.key(0))
  layout = sharding.batch_sharding(mesh)
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=layout), shapes)


# XLA compiler options per scheduler name ('memory' sets an option of XLA's CPU
# compiler, for the CPU estimate).
SCHEDULERS = {
    'default': None,
    'memory': {'xla_cpu_scheduler_type': 'CPU_SCHEDULER_TYPE_MEMORY_OPTIMIZED'},
}


def xla_memory(config: ml_collections.ConfigDict, scheduler: str = 'default') -> list[dict]:
  """Per stage of `train.stages`: {'stage', 'arguments', 'outputs', 'aliased',
  'temporaries', 'total'} in bytes, total = arguments + outputs - aliased + temporaries
  (the donated state is aliased: arguments and temporaries are what lives at once),
  compiled with `SCHEDULERS[scheduler]`."""
  if scheduler not in SCHEDULERS:
    raise ValueError(f'scheduler must be one of {sorted(SCHEDULERS)}, got {scheduler!r}')
  config = copy.deepcopy(config)  # our copy: the caller's config is not written
  config.init_from = ''
  config.model.caption_decoder.init_from = ''  # the config spells the sizes out
  bench.check_settings(config)
  vocab = bench.bench_vocab()
  mesh = sharding.make_mesh(config.train.fsdp)
  model = nnx.eval_shape(lambda: factory.build_model(
      config, vocab, caption_vocab_size=int(config.bench.caption_vocab_size)))
  parts = parts_lib.split(model)
  trainer = trainer_lib.Trainer(config, parts, mesh, num_layers=model.backbone.config.num_layers,
                                style_to_family=model.style_to_family)
  batch = abstract_batch(config, dict(vocab.num_classes),
                         model.captioner.vocab_size if model.captioner is not None else 0, mesh)
  out = []
  for index in range(len(trainer.stages)):
    trainer.enter(index)
    state = jax.eval_shape(lambda p: state_lib.create(p, trainer.tx), parts.params)
    stats = trainer.step_fn.lower(state, batch).compile(
        compiler_options=SCHEDULERS[scheduler]).memory_analysis()
    sizes = dict(arguments=stats.argument_size_in_bytes, outputs=stats.output_size_in_bytes,
                 aliased=stats.alias_size_in_bytes, temporaries=stats.temp_size_in_bytes)
    sizes['total'] = (sizes['arguments'] + sizes['outputs'] - sizes['aliased']
                      + sizes['temporaries'])
    out.append({'stage': trainer.describe(), **sizes})
  return out
