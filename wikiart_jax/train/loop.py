"""The training loop: `train_and_evaluate(config, workdir)`.

A run lives in its workdir: the prepared dataset (unless `data.tfds_dir` points
elsewhere), `checkpoints/` (orbax: train state + grain iterator), TensorBoard event
files, `metrics.json` and the confusion-matrix PNGs. Restarting `train` on a
workdir resumes from its newest readable checkpoint; one `train` at a time holds
the workdir (`locking`).
"""

import contextlib
import dataclasses
import math
import os
import time

import jax
from jax.experimental import multihost_utils
import ml_collections
import numpy as np
from tqdm import tqdm

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax import locking
from wikiart_jax.core import TrainingDivergedError
from wikiart_jax.data import caption_targets
from wikiart_jax.data import dataset
from wikiart_jax.data import pipeline
from wikiart_jax.data import prepare
from wikiart_jax.evaluators import calibration as calibration_eval
from wikiart_jax.evaluators import runner as evaluators
from wikiart_jax.inference import clip_tags
from wikiart_jax.inference import forward
from wikiart_jax.metrics import calibration
from wikiart_jax.models import captioner as captioner_lib
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.text import prompts
from wikiart_jax.train import stages as stages_lib
from wikiart_jax.train import summaries
from wikiart_jax.train import trainer as trainer_lib


def prepare_once(config: ml_collections.ConfigDict, workdir: str,
                 finish: bool = False) -> dataset.DatasetInfo:
  """Builds the dataset (with CLIP tag scores when data.tags.clip_from is set, and the
  demo caption tokenizer) on process 0 only; its info. `finish`: as `prepare.prepare`."""
  if jax.process_index() == 0:
    prepare.prepare(config, workdir, finish=finish, make_tag_scorer=clip_tags.from_config)
    if config.model.captioner != 'none':
      factory.caption_source(config, dataset.load_info(config, workdir).vocab, workdir)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices('wikiart_jax.prepare')
  return dataset.load_info(config, workdir)


@dataclasses.dataclass
class RunSetup:
  """What a run is made of before its first step.

  Attributes:
    info: the prepared dataset's vocabularies, sizes and counts.
    mesh: the device mesh.
    parts: the freshly built model's parts (initial parameters).
    style_to_family: with a hierarchical style head, each style's family.
    num_layers: the backbone's blocks.
    captioning: whether the model has a captioner.
    record: what rebuilds the model (architecture, normalisation, decoder sizes).
    blip2: a BLIP-2 captioner's framing (its caption rows' layout), else None.
  """
  info: dataset.DatasetInfo
  mesh: jax.sharding.Mesh
  parts: parts_lib.ModelParts
  style_to_family: np.ndarray | None
  num_layers: int
  captioning: bool
  record: factory.RunRecord
  blip2: prompts.Framing | None = None

  @classmethod
  def of(cls, info, mesh, model, record, parts=None) -> 'RunSetup':
    return cls(info=info, mesh=mesh, parts=parts or parts_lib.split(model),
               style_to_family=model.style_to_family,
               num_layers=model.backbone.config.num_layers,
               captioning=model.captioner is not None, record=record,
               blip2=getattr(model.captioner, 'framing', None))


def setup(config: ml_collections.ConfigDict, workdir: str) -> RunSetup:
  """Dataset info, mesh and the model; the vocabularies and the run record go
  into the workdir, so that every later mode rebuilds the model from it alone."""
  info = prepare_once(config, workdir)
  mesh = sharding.make_mesh(config.train.fsdp)
  model, record = factory.build_with_record(config, info.vocab, workdir)
  if jax.process_index() == 0:
    info.vocab.to_json(os.path.join(workdir, checkpointing.VOCAB_FILE))
    record.save(workdir)
  return RunSetup.of(info, mesh, model, record)


def _window_scalars(window) -> dict[str, float]:
  """The merged TrainMetrics of the steps since the last summary, as floats."""
  return {k: float(v) for k, v in jax.device_get(window.compute()).items()}


def _train_iter(config, workdir: str, run: RunSetup):
  caption_transform = None
  if run.captioning:
    caption_transform = caption_targets.make_transform(
        config.data.caption, run.info.vocab,
        factory.caption_source(config, run.info.vocab, workdir), blip2=run.blip2,
        hedging=captioner_lib.has_style_hedge(config.model),
        tag_tokens=captioner_lib.has_tag_tokens(config.model),
        class_tokens=captioner_lib.has_class_tokens(config.model))
    # Load it here: transformers' lazy imports are not safe from grain's threads.
    assert caption_transform.tokenizer is not None
  return pipeline.make_train_iter(
      config, workdir, process_index=jax.process_index(), process_count=jax.process_count(),
      caption_transform=caption_transform, norm=run.record.normalization)


def evaluate_params(config, workdir: str, run: RunSetup, step_fn, params,
                    caption_tokenizer=None, split: str = 'val', *,
                    step: int | None = None,
                    tag_threshold: float | None = None) -> evaluators.Evaluation:
  """Runs the configured evaluators on `params` (checkpoint `step`) over `split`.

  On val the heads' temperatures are fitted and saved for `step` in the workdir
  (metrics/calibration.py); on test those of `step` are applied, and the tags are
  scored at `tag_threshold`, the one val chose, when given.
  """
  temperatures = (calibration.load_temperatures(workdir, step)
                  if split != 'val' and step is not None else None)
  built = evaluators.build(config, run.info.vocab, run.parts, params,
                           caption_tokenizer=caption_tokenizer,
                           style_to_family=run.style_to_family,
                           norm=run.record.normalization, split=split,
                           temperatures=temperatures, tag_threshold=tag_threshold)
  evaluation = evaluators.run(built, step_fn, params, config, workdir, run.info, run.mesh,
                              split=split, norm=run.record.normalization)
  fitted = calibration_eval.temperatures_of(evaluation.metrics)
  if split == 'val' and step is not None and fitted and jax.process_index() == 0:
    calibration.save_temperatures(workdir, step, fitted)
  return evaluation


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (resuming when the workdir has a checkpoint), evaluates, checkpoints.

  Holds the workdir's writer lock throughout: a second `train` there stops at once.

  Returns:
    The final held-out metrics, as written to `<workdir>/metrics.json`.

  Raises:
    LockedError: another live process trains in this workdir (names it).
  """
  workdir = os.path.abspath(workdir)
  os.makedirs(workdir, exist_ok=True)
  # Process 0 holds it for the whole run: the other processes are the same run.
  held = (locking.hold(workdir, 'train',
                       advice='wait for it to finish or stop it, or use another workdir')
          if jax.process_index() == 0 else contextlib.nullcontext())
  with held:
    return _train_and_evaluate(config, workdir)


def _train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  run = setup(config, workdir)
  steps_per_epoch = max(run.info.num_examples['train'] // config.data.batch_size, 1)
  trainer = trainer_lib.Trainer(config, run.parts, run.mesh, num_layers=run.num_layers,
                                steps_per_epoch=steps_per_epoch,
                                style_to_family=run.style_to_family)
  ckpt = checkpointing.Checkpointer(
      workdir, keep=config.train.keep_checkpoints,
      best_metric=config.eval.best_metric)
  train_iter = _train_iter(config, workdir, run)
  report = summaries.RunSummary(workdir, config)

  def abstract_at(step):  # a checkpoint holds the optimizer state of the stage that wrote it
    trainer.enter(stages_lib.index_at(trainer.stages, max(step - 1, 0)))
    return trainer.abstract_state()

  # The newest checkpoint that reads back; a truncated or incomplete newer one is skipped.
  state, start = ckpt.restore_newest(abstract_at, train_iter)
  if state is None:
    start = 0
    trainer.enter(stages_lib.index_at(trainer.stages, 0))
    state = trainer.init_state(run.parts.params)
  else:
    report.load_history()
    print(f'Resuming from the checkpoint at step {start}.', flush=True)
  run = dataclasses.replace(run, parts=run.parts.with_params(None))  # the state owns them now

  eval_step = forward.make_step(run.parts)
  caption_tokenizer = (factory.caption_tokenizer(config, run.info.vocab, workdir)
                       if run.captioning else None)
  num_steps = config.train.num_steps
  window = None  # TrainMetrics merged since the last summary
  # The training speed of each window (evaluations and checkpoints left out), as
  # clu's ReportProgress wrote it; that hook imports TensorFlow (9 s of CPU a start).
  window_clock = (time.perf_counter(), start)
  with tqdm(total=num_steps, initial=start, desc='train', unit='step',
            dynamic_ncols=True, disable=jax.process_index() > 0) as progress:
    if len(trainer.stages) > 1:
      progress.write(trainer.describe())
    step = start
    last_saved = start or None
    while step < num_steps:
      next_index = stages_lib.index_at(trainer.stages, step)
      if next_index != trainer.index:
        # New stage: new trainable set, fresh optimizer state for it.
        trainer.enter(next_index)
        state = trainer.reset_optimizer(state)
        progress.write(trainer.describe())
      with jax.profiler.StepTraceAnnotation('train', step_num=step):
        batch = sharding.to_global(next(train_iter), run.mesh)
        state, update = trainer.step_fn(state, batch)
      window = update if window is None else window.merge(update)
      step += 1
      progress.update(1)
      is_eval = step % config.train.eval_every == 0 or step == num_steps
      if step % config.train.log_every == 0 or is_eval:
        scalars = _window_scalars(window)
        window = None
        scalars['steps_per_sec'] = (step - window_clock[1]) / (
            time.perf_counter() - window_clock[0])
        if config.train.nan_check and not math.isfinite(scalars['loss']):
          kept = f'step {last_saved}' if last_saved else 'none saved yet'
          raise TrainingDivergedError(
              f'the training loss became NaN or infinite before step {step}; '
              f'the last good checkpoint is kept ({kept}). Lower '
              f'train.learning_rate or check the data.')
        report.write_train(step, scalars)
        progress.set_postfix(loss=f"{scalars['loss']:.3f}",
                             style=f"{scalars['style_accuracy']:.2f}")
      if is_eval:
        evaluation = evaluate_params(config, workdir, run, eval_step, state.params,
                                     caption_tokenizer, step=step)
        report.write_eval(step, evaluation.metrics, run.info.vocab,
                          samples=evaluation.samples)
        progress.write(f'step {step} eval: {evaluation.line}')
        ckpt.save(step, state, train_iter, metrics=summaries.flat_eval(evaluation.metrics))
        last_saved = step
      if step % config.train.log_every == 0 or is_eval:
        window_clock = (time.perf_counter(), step)
  if 'test' in run.info.num_examples:
    _report_test(config, workdir, run, ckpt, state, eval_step, caption_tokenizer, report)
  ckpt.close()
  report.close()
  return report.metrics_json()


def _report_test(config, workdir: str, run: RunSetup, ckpt, state, eval_step,
                 caption_tokenizer, report) -> None:
  """The test split's metrics of the checkpoint val selected (the best on
  eval.best_metric), once, after training."""
  step = ckpt.best_step() or ckpt.latest_step()
  # A reader of its own: the writer's handlers are set for whole states (StandardSave).
  reader = checkpointing.Checkpointer(workdir, read_only=True)
  params = reader.restore_params(step, checkpointing.abstract_like(state.params))
  reader.close()
  evaluation = evaluate_params(config, workdir, run, eval_step, params, caption_tokenizer,
                               split='test', step=step,
                               tag_threshold=report.tag_threshold(step))
  report.write_eval(step, evaluation.metrics, run.info.vocab, samples=evaluation.samples,
                    split='test')
  print(f'step {step} test: {evaluation.line}', flush=True)
