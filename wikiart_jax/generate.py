"""Jitted text generation with a static KV cache: greedy, beam search, top-p sampling.

One `jax.jit` per (model graph, method, shapes): the prompt is fed once
(prefill), then a `jax.lax.while_loop` appends one token per iteration to the
fixed-size cache, so nothing is re-traced per token and a batch size compiles
once. The loop ends when every row has emitted EOS or `max_new_tokens` are out;
after EOS a row emits `pad_id`. Output: int32 [B, max_new_tokens].

Models: our GPT-2 alone (prompt ids, left-padded with `attention_mask`: positions
follow the real tokens, as transformers' generate does), our GIT (images or
projected image tokens + a BOS prompt) and the captioners (backbone tokens + BOS).
Beam search follows transformers' vectorised beam search (top 2k candidates,
finished hypotheses scored sum_logprob / generated_length ** length_penalty,
the same early-stop heuristic), so the two agree token for token.
"""

from __future__ import annotations

import functools
from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax.models.captioner import Captioner
from wikiart_jax.models.git import GitForCausalLM
from wikiart_jax.models.gpt2 import GPT2LMHeadModel

METHODS = ('greedy', 'beam', 'sample')
_NEG = -1.0e9  # transformers' "impossible" score, kept for identical tie-breaking


def _check_positions(needed: int, available: int) -> None:
  # Positions past the table would embed as NaN/garbage instead of failing.
  if needed > available:
    raise ValueError(f'prompt + max_new_tokens = {needed} exceeds the model\'s {available} '
                     'positions')


def _prefill(model, input_ids, attention_mask, image_tokens, images, max_new_tokens):
  """Feeds the prompt: (last logits [B, V], cache, next position [B])."""
  b, t = input_ids.shape
  if isinstance(model, GPT2LMHeadModel):
    if image_tokens is not None or images is not None:
      raise ValueError('GPT-2 alone takes a prompt only; use a prefix Captioner for images')
    _check_positions(t + max_new_tokens, model.config.n_positions)
    cache = model.init_cache(b, t + max_new_tokens)
    # Left padding: a real token's position counts the real tokens before it.
    positions = jnp.maximum(jnp.cumsum(attention_mask, axis=1) - 1, 0)
    logits, cache = model(input_ids, attention_mask=attention_mask, cache=cache,
                          positions=positions)
    return logits[:, -1], cache, attention_mask.sum(axis=1)
  if isinstance(model, Captioner):
    if image_tokens is None:
      raise ValueError('a Captioner needs image_tokens (the backbone tokens)')
    cache = model.init_cache(b, image_tokens.shape[1], t + max_new_tokens)
    logits, cache = model.prefill(image_tokens, input_ids, cache)
  elif isinstance(model, GitForCausalLM):
    prefix = model.encode_images(images) if images is not None else image_tokens
    if prefix is None:
      raise ValueError('GIT needs images or image_tokens')
    _check_positions(t + max_new_tokens, model.config.max_position_embeddings)
    cache = model.init_cache(b, prefix.shape[1] + t + max_new_tokens)
    logits, cache = model(input_ids, prefix_embeds=prefix, cache=cache)
  else:
    raise TypeError(f'cannot generate with a {type(model).__name__}')
  return logits[:, -1], cache, jnp.full((b,), t, jnp.int32)


def _step(model, token, position, cache):
  """Appends one token per row: (logits [B, V], cache)."""
  if isinstance(model, GPT2LMHeadModel):
    logits, cache = model(token[:, None], cache=cache, positions=position[:, None])
  elif isinstance(model, Captioner):
    logits, cache = model.decode_step(token[:, None], cache)
  else:  # GIT: text positions follow from the cache
    logits, cache = model(token[:, None], cache=cache)
  return logits[:, -1], cache


def _top_p_filter(logits, top_p: float):
  """Keeps the smallest set of tokens whose probability reaches `top_p` (at least one)."""
  sorted_logits = jnp.sort(logits, axis=-1)[:, ::-1]
  probs = jax.nn.softmax(sorted_logits, axis=-1)
  mass_before = jnp.cumsum(probs, axis=-1) - probs
  keep = mass_before < top_p
  keep = keep.at[:, 0].set(True)
  threshold = jnp.min(jnp.where(keep, sorted_logits, jnp.inf), axis=-1, keepdims=True)
  return jnp.where(logits >= threshold, logits, -jnp.inf)


def _decode_loop(model, logits, cache, position, *, max_new_tokens, eos_id, pad_id, method,
                 top_p, temperature, rng):
  """Greedy or top-p sampling over the batch; stops when every row has ended."""
  b = logits.shape[0]
  tokens = jnp.full((b, max_new_tokens), pad_id, jnp.int32)
  done = jnp.zeros((b,), bool)

  def choose(logits, key):
    if method == 'greedy':
      return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    filtered = _top_p_filter(logits / temperature, top_p)
    return jax.random.categorical(key, filtered, axis=-1).astype(jnp.int32)

  def body(carry):
    t, logits, cache, position, tokens, done, rng = carry
    rng, key = jax.random.split(rng)
    token = jnp.where(done, pad_id, choose(logits, key))
    tokens = tokens.at[:, t].set(token)
    done = done | (token == eos_id)
    logits, cache = _step(model, token, position, cache)
    return t + 1, logits, cache, position + 1, tokens, done, rng

  def cond(carry):
    t, done = carry[0], carry[5]
    return (t < max_new_tokens) & ~jnp.all(done)

  carry = (jnp.int32(0), logits, cache, position, tokens, done, rng)
  return jax.lax.while_loop(cond, body, carry)[4]


def _gather(tree, index):
  """Rows `index` [B*k] of every batched array of a cache."""
  return jax.tree.map(lambda x: x[index] if x.ndim else x, tree)


def _beam_loop(model, logits, cache, position, *, max_new_tokens, eos_id, pad_id, num_beams,
               length_penalty, early_stopping):
  """transformers' vectorised beam search with our cache; returns the best beam's tokens."""
  b, v = logits.shape
  k, keep = num_beams, 2 * num_beams
  repeat = lambda x: jnp.repeat(x, k, axis=0) if x.ndim else x
  cache, position = jax.tree.map(repeat, cache), repeat(position)
  logits = repeat(logits)
  running = jnp.full((b, k, max_new_tokens), pad_id, jnp.int32)
  running_scores = jnp.full((b, k), _NEG, jnp.float32).at[:, 0].set(0.0)
  finished = jnp.full((b, k, max_new_tokens), pad_id, jnp.int32)
  finished_scores = jnp.full((b, k), _NEG, jnp.float32)
  is_finished = jnp.zeros((b, k), bool)
  improvable = jnp.ones((b, 1), bool)
  rows = jnp.arange(b)[:, None]

  def body(carry):
    (t, logits, cache, position, running, running_scores, finished, finished_scores,
     is_finished, improvable, _) = carry
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1).reshape(b, k, v)
    scores = (logp + running_scores[:, :, None]).reshape(b, k * v)
    top_scores, top_index = jax.lax.top_k(scores, keep)
    beam, token = top_index // v, (top_index % v).astype(jnp.int32)
    top_seqs = running[rows, beam].at[:, :, t].set(token)  # [b, 2k, L]
    hits = (token == eos_id) | (t + 1 >= max_new_tokens)

    # The k best candidates that did not stop keep running.
    alive_scores = top_scores + hits * _NEG
    alive_scores, alive = jax.lax.top_k(alive_scores, k)
    running = top_seqs[rows, alive]
    parent = (rows * k + beam[rows, alive]).reshape(-1)

    # Among the top k candidates, those that stopped may enter the finished set.
    just_done = hits & (jnp.arange(keep) < k)[None]
    cand = top_scores / ((t + 1.0) ** length_penalty)
    if early_stopping is True:
      cand = cand + (jnp.all(is_finished, axis=-1, keepdims=True)) * _NEG
    cand = cand + (~improvable) * _NEG + (~just_done) * _NEG
    merged_scores = jnp.concatenate([finished_scores, cand], axis=1)
    merged_seqs = jnp.concatenate([finished, top_seqs], axis=1)
    merged_done = jnp.concatenate([is_finished, just_done], axis=1)
    finished_scores, best = jax.lax.top_k(merged_scores, k)
    finished, is_finished = merged_seqs[rows, best], merged_done[rows, best]

    # Reorder the cache to the surviving beams and feed their new tokens.
    cache, position = _gather(cache, parent), position[parent]
    new_tokens = running[:, :, t].reshape(-1)
    logits, cache = _step(model, new_tokens, position, cache)
    position = position + 1

    length = (max_new_tokens if early_stopping == 'never' and length_penalty > 0 else t + 1)
    best_possible = alive_scores[:, :1] / (jnp.asarray(length, jnp.float32) ** length_penalty)
    worst = jnp.where(is_finished, jnp.min(finished_scores, axis=1, keepdims=True), _NEG)
    improvable = improvable & jnp.any(best_possible > worst, axis=-1, keepdims=True)
    all_hit = jnp.all(hits)
    return (t + 1, logits, cache, position, running, alive_scores, finished, finished_scores,
            is_finished, improvable, all_hit)

  def cond(carry):
    t, is_finished, improvable, all_hit = carry[0], carry[8], carry[9], carry[10]
    open_beam = ~(jnp.all(is_finished) & (early_stopping is True))
    return (t < max_new_tokens) & jnp.any(improvable) & open_beam & ~all_hit

  carry = (jnp.int32(0), logits, cache, position, running, running_scores, finished,
           finished_scores, is_finished, improvable, jnp.bool_(False))
  finished = jax.lax.while_loop(cond, body, carry)[6]
  return finished[:, 0]


@functools.partial(jax.jit, static_argnames=(
    'graphdef', 'max_new_tokens', 'eos_id', 'pad_id', 'method', 'num_beams', 'length_penalty',
    'early_stopping', 'top_p', 'temperature', 'padded'))
def _generate(graphdef, state, input_ids, attention_mask, image_tokens, images, rng, *,
              max_new_tokens, eos_id, pad_id, method, num_beams, length_penalty, early_stopping,
              top_p, temperature, padded):
  model = nnx.merge(graphdef, state)
  mask = attention_mask if padded else np.ones(input_ids.shape, np.int32)
  logits, cache, position = _prefill(model, input_ids, mask, image_tokens, images,
                                     max_new_tokens)
  if method == 'beam':
    return _beam_loop(model, logits, cache, position, max_new_tokens=max_new_tokens,
                      eos_id=eos_id, pad_id=pad_id, num_beams=num_beams,
                      length_penalty=length_penalty, early_stopping=early_stopping)
  return _decode_loop(model, logits, cache, position, max_new_tokens=max_new_tokens,
                      eos_id=eos_id, pad_id=pad_id, method=method, top_p=top_p,
                      temperature=temperature, rng=rng)


def generate(model, input_ids, *, max_new_tokens: int, eos_id: int, pad_id: int,
             attention_mask=None, image_tokens=None, images=None, method: str = 'greedy',
             num_beams: int = 4, length_penalty: float = 1.0,
             early_stopping: bool | str = False, top_p: float = 0.9, temperature: float = 1.0,
             rng: jax.Array | None = None) -> jax.Array:
  """Generates up to `max_new_tokens` tokens per row; int32 [B, max_new_tokens].

  Args:
    model: GPT2LMHeadModel, GitForCausalLM or Captioner.
    input_ids: [B, T] prompt ids (BOS for the image-conditioned models).
    max_new_tokens: generated tokens per row (the output width).
    eos_id: the token that ends a row (kept in the output).
    pad_id: written after EOS.
    attention_mask: [B, T] for left-padded GPT-2 prompts (1 real, 0 padding).
    image_tokens: [B, M, D] the Captioner's context (`Captioner.condition`), or
      projected image tokens (GIT).
    images: [B, S, S, 3] pixels, GIT only (encoded by its own image tower).
    method: 'greedy' | 'beam' | 'sample' (top-p).
    num_beams: beams of 'beam'.
    length_penalty: beam score = sum log p / generated_length ** length_penalty.
    early_stopping: transformers' beam flag: False (heuristic), True or 'never'.
    top_p: nucleus mass of 'sample'.
    temperature: logits divisor of 'sample'.
    rng: PRNG key of 'sample'.
  """
  if method not in METHODS:
    raise ValueError(f'generation method must be one of {METHODS}, got {method!r}')
  if max_new_tokens < 1:
    raise ValueError(f'max_new_tokens must be >= 1, got {max_new_tokens}')
  if method == 'beam' and num_beams < 1:
    raise ValueError(f'num_beams must be >= 1, got {num_beams}')
  if method == 'sample' and not (0.0 < top_p <= 1.0 and temperature > 0):
    raise ValueError(f'sampling needs 0 < top_p <= 1 and temperature > 0, got {top_p}, '
                     f'{temperature}')
  input_ids = jnp.asarray(input_ids, jnp.int32)
  if input_ids.ndim != 2 or input_ids.shape[1] < 1:
    raise ValueError(f'input_ids must be [B, T] with T >= 1, got {input_ids.shape}')
  padded = attention_mask is not None and not bool(np.all(np.asarray(attention_mask)))
  if padded and not isinstance(model, GPT2LMHeadModel):
    raise ValueError('only GPT-2 prompts may be padded (image prompts are BOS only)')
  mask = jnp.asarray(attention_mask if padded else np.ones(input_ids.shape), jnp.int32)
  graphdef, state = nnx.split(model)
  return _generate(graphdef, state, input_ids, mask, image_tokens, images,
                   jax.random.key(0) if rng is None else rng,
                   max_new_tokens=max_new_tokens, eos_id=int(eos_id), pad_id=int(pad_id),
                   method=method, num_beams=int(num_beams), length_penalty=float(length_penalty),
                   early_stopping=early_stopping, top_p=float(top_p),
                   temperature=float(temperature), padded=padded)


def strip_after_eos(tokens, eos_id: int) -> list[list[int]]:
  """Per row, the generated ids before the first EOS (EOS and padding dropped)."""
  out = []
  for row in np.asarray(tokens).tolist():
    out.append(row[:row.index(eos_id)] if eos_id in row else row)
  return out


def decode_texts(tokens, tokenizer, eos_id: int) -> list[str]:
  """Generated ids [B, L] -> captions, cut at the first EOS."""
  return [tokenizer.decode(ids, skip_special_tokens=True).strip()
          for ids in strip_after_eos(tokens, eos_id)]
