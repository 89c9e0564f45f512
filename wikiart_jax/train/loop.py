"""The training loop (`train_and_evaluate`) and the held-out evaluation (`evaluate`).

A run lives in its workdir: the prepared dataset (unless `data.tfds_dir` points
elsewhere), `checkpoints/` (orbax: train state + grain iterator), TensorBoard event
files, `metrics.json` and the confusion-matrix PNGs. Restarting `train` on a
workdir resumes from its last checkpoint.
"""

import math
import os

import jax
from jax.experimental import multihost_utils
import ml_collections
from tqdm import tqdm

from wikiart_jax.data import pipeline
from wikiart_jax.data import prepare
from wikiart_jax.eval import caption_eval
from wikiart_jax.models import build
from wikiart_jax.models import vit as vit_lib
from wikiart_jax.train import checkpointing
from wikiart_jax.train import evaluation
from wikiart_jax.train import optimizer
from wikiart_jax.train import sharding
from wikiart_jax.train import stages as stages_lib
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib
from wikiart_jax.train import summaries


class TrainingDivergedError(RuntimeError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


def _prepare_once(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Builds the dataset (and the demo caption tokenizer) on process 0 only."""
  if jax.process_index() == 0:
    prepare.prepare(config, workdir)
    if pipeline.captions_enabled(config):
      build.caption_tokenizer(config, prepare.load_info(config, workdir).vocab, workdir)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices('wikiart_jax.prepare')


def _setup(config: ml_collections.ConfigDict, workdir: str):
  """Dataset info, mesh, model split into (graphdef, params, rest)."""
  _prepare_once(config, workdir)
  info = prepare.load_info(config, workdir)
  mesh = sharding.make_mesh(config.train.fsdp)
  model = build.build_model(config, info.vocab, workdir)
  style_to_family = model.style_to_family
  graphdef, params, rest = state_lib.split_model(model)
  if jax.process_index() == 0:
    info.vocab.to_json(os.path.join(workdir, checkpointing.VOCAB_FILE))
  return info, mesh, graphdef, params, rest, style_to_family


def _window_scalars(window) -> dict[str, float]:
  """The merged TrainMetrics of the steps since the last summary, as floats."""
  return {k: float(v) for k, v in jax.device_get(window.compute()).items()}


class _StagedTrainer:
  """The optimizer and the jitted step of the current unfreezing stage."""

  def __init__(self, config, graphdef, rest, params, info, style_to_family, mesh):
    self._config = config
    self._mesh = mesh
    self._graphdef, self._rest = graphdef, rest
    self._style_to_family = style_to_family
    self.num_layers = vit_lib.ViTConfig.from_config(config.model).num_layers
    steps_per_epoch = max(info.num_examples['train'] // config.data.batch_size, 1)
    self.stages = stages_lib.parse(config.train, steps_per_epoch)
    self.index = None
    self.tx = self.step_fn = self.schedule = self.state_sharding = None
    self._params_template = params

  def enter(self, index: int) -> None:
    """Builds the optimizer and the step of stage `index`."""
    cfg = self._config.train
    stage = self.stages[index]
    self.index = index
    self.tx = optimizer.make_optimizer(cfg, self._params_template, stage, self.num_layers)
    stage_schedule = optimizer.make_schedule(cfg, stage)
    self.schedule = lambda step: stage_schedule(step - stage.start)  # global step
    labels = stages_lib.labels(self._params_template, stage, self.num_layers,
                               cfg.get('layer_decay', 1.0))
    all_train = all(g != stages_lib.FROZEN for g in jax.tree.leaves(labels))
    self.state_sharding = sharding.state_shardings(
        jax.eval_shape(lambda p: state_lib.create(p, self.tx), self._params_template),
        self._mesh)
    self.step_fn = step_lib.make_train_step(
        self._graphdef, self._rest, self.tx, cfg, self.schedule,
        dropout_key=jax.random.key(self._config.seed + 1),
        style_to_family=self._style_to_family,
        trainable=None if all_train else stages_lib.trainable_mask(labels),
        state_sharding=self.state_sharding, mesh=self._mesh)

  def describe(self) -> str:
    stage = self.stages[self.index]
    what = {0: 'the heads (backbone frozen)', -1: 'every parameter'}.get(
        stage.blocks, f'the heads and the last {stage.blocks} blocks')
    return f'stage {self.index + 1}/{len(self.stages)} from step {stage.start}: training {what}'


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (resuming when the workdir has a checkpoint), evaluates, checkpoints.

  Returns:
    The final held-out metrics, as written to `<workdir>/metrics.json`.
  """
  workdir = os.path.abspath(workdir)
  os.makedirs(workdir, exist_ok=True)
  info, mesh, graphdef, params, rest, style_to_family = _setup(config, workdir)
  trainer = _StagedTrainer(config, graphdef, rest, params, info, style_to_family, mesh)
  ckpt = checkpointing.Checkpointer(
      workdir, keep=config.train.keep_checkpoints,
      best_metric=config.eval.best_metric)
  start = ckpt.latest_step() or 0
  # A checkpoint holds the optimizer state of the stage that produced it.
  trainer.enter(stages_lib.index_at(trainer.stages, max(start - 1, 0)))
  state = jax.device_put(state_lib.create(params, trainer.tx), trainer.state_sharding)
  del params
  train_iter = pipeline.make_train_iter(
      config, workdir, process_index=jax.process_index(),
      process_count=jax.process_count())
  report = summaries.RunSummary(workdir, config)
  if start:
    try:
      state, _ = ckpt.restore(start, state_lib.abstract_like(state), train_iter)
    except ValueError as e:
      raise ValueError(
          f'cannot resume from {ckpt.directory}/{start}: it was written with another '
          'model or optimizer config (e.g. a different model size, stages or '
          'adam_mu_dtype); use a new workdir') from e
    report.load_history()
    print(f'Resuming from the checkpoint at step {start}.', flush=True)

  captioning = pipeline.captions_enabled(config)
  eval_step = step_lib.make_eval_step(graphdef, rest, with_context=captioning)
  num_steps = config.train.num_steps
  # Imported here: clu's periodic actions pull in TensorFlow (absent on GPU images).
  from clu import periodic_actions  # pylint: disable=g-import-not-at-top
  hooks = [periodic_actions.ReportProgress(num_train_steps=num_steps,
                                           writer=report.writer)]
  window = None  # TrainMetrics merged since the last summary
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
        state = jax.device_put(state.replace(opt_state=trainer.tx.init(state.params)),
                             trainer.state_sharding)
        progress.write(trainer.describe())
      with jax.profiler.StepTraceAnnotation('train', step_num=step):
        batch = pipeline.to_global(next(train_iter), mesh)
        state, update = trainer.step_fn(state, batch)
      window = update if window is None else window.merge(update)
      step += 1
      progress.update(1)
      for hook in hooks:
        hook(step)
      is_eval = step % config.train.eval_every == 0 or step == num_steps
      if step % config.train.log_every == 0 or is_eval:
        scalars = _window_scalars(window)
        window = None
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
        captioner = (caption_eval.CaptionEvaluator(
            config, info.vocab, workdir, graphdef, state.params, rest) if captioning else None)
        eval_metrics, caption = evaluation.evaluate_params(
            state.params, eval_step, config, workdir, info, mesh, style_to_family,
            captioner)
        report.write_eval(step, eval_metrics, info.vocab, caption=caption,
                          caption_samples=captioner and captioner.samples)
        progress.write(summaries.eval_line(step, eval_metrics, caption))
        ckpt.save(step, state, train_iter,
                  metrics=summaries.flat_eval(eval_metrics))
        last_saved = step
  ckpt.close()
  report.close()
  return report.metrics_json()


def evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Restores a checkpoint (`eval.step`, default the latest) and evaluates it."""
  workdir = os.path.abspath(workdir)
  _prepare_once(config, workdir)
  info = prepare.load_info(config, workdir)
  model = build.build_model(config, info.vocab, workdir)
  style_to_family = model.style_to_family
  graphdef, rest, params, step, mesh = checkpointing.restore_for_model(
      workdir, model, config.eval.step)
  del model
  captioning = pipeline.captions_enabled(config)
  captioner = (caption_eval.CaptionEvaluator(config, info.vocab, workdir, graphdef, params,
                                             rest) if captioning else None)
  eval_metrics, caption = evaluation.evaluate_params(
      params, step_lib.make_eval_step(graphdef, rest, with_context=captioning), config,
      workdir, info, mesh, style_to_family, captioner)
  report = summaries.RunSummary(workdir, config)
  report.load_history()
  report.write_eval(step, eval_metrics, info.vocab, from_eval_mode=True, caption=caption,
                    caption_samples=captioner and captioner.samples)
  print(summaries.eval_line(step, eval_metrics, caption), flush=True)
  report.close()
  if jax.process_index() == 0:
    # Imported here: the report pulls in the web demo's ratings and plotting.
    from wikiart_jax import inference  # pylint: disable=g-import-not-at-top
    from wikiart_jax.eval import eval_report  # pylint: disable=g-import-not-at-top
    path = eval_report.write(
        workdir, info.path, config.eval.split, config.data.image_size, info.vocab,
        eval_metrics,
        inference.make_forward(graphdef, rest, params, mesh, with_context=captioning),
        family_names=list(config.model.style_families.keys()), caption_metrics=caption,
        describer=captioner.describer if captioning else None)
    print(f'report: {path}', flush=True)
  return report.metrics_json()
