"""Jitted text generation with a static KV cache: greedy, beam search, top-p sampling.

One `jax.jit` per (model graph, method, shapes): the prompt is fed once
(prefill), then a `jax.lax.while_loop` appends one token per iteration to the
fixed-size cache, so nothing is re-traced per token and a batch size compiles
once. The loop ends when every row has emitted EOS or `max_new_tokens` are out;
after EOS a row emits `pad_id`. Output: int32 [B, max_new_tokens]. A `logit_bias`
[V] is added to every step's scores before any method chooses (-1e9 bans a
token, as transformers' `bad_words_ids` does: the captioner's digits and title
quotes); `no_repeat_ngram` n > 0 bans any token that would repeat an n-gram of
the row's prompt and text so far, as transformers' `no_repeat_ngram_size`.

Any model with the text models' decoding interface (models/kv_cache.py:
`init_cache`, `prefill`, `decode_step`) generates here: our GPT-2 alone (prompt
ids, left-padded with `attention_mask`: positions follow the real tokens, as
transformers' generate does), our GIT (images or projected image tokens + a
BOS prompt) and the captioners (their context + BOS and a language tag). Beam
search follows transformers' vectorised beam search (top 2k candidates,
finished hypotheses scored sum_logprob / generated_length ** length_penalty,
the same early-stop heuristic), so the two agree token for token. The loops'
carries are `flax.struct` dataclasses.
"""

from __future__ import annotations

import functools

import flax.struct
from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax.models.kv_cache import KVCache

METHODS = ('greedy', 'beam', 'sample')
_NEG = -1.0e9  # transformers' "impossible" score, kept for identical tie-breaking


def _prefill(model, input_ids, attention_mask, context, images, max_new_tokens):
  """Feeds the prompt: (last logits [B, V], cache)."""
  if images is not None:
    if not hasattr(model, 'encode_images'):
      raise ValueError(f'{type(model).__name__} has no image tower: pass its context instead')
    context = model.encode_images(images)
  context_length = 0 if context is None else context.shape[1]
  cache = model.init_cache(input_ids.shape[0], context_length,
                           input_ids.shape[1] + max_new_tokens)
  logits, cache = model.prefill(input_ids, cache, context=context,
                                attention_mask=attention_mask)
  return logits[:, -1], cache


def _biased(scores, bias):
  """Scores with the banned tokens pushed out (transformers' bad_words_ids, for single
  tokens, does this to the same scores: logits, or log-probabilities in beam search)."""
  return scores if bias is None else scores.astype(jnp.float32) + bias


def _repeat_bans(history, length, n: int, vocab_size: int):
  """[R, V] -1e9 on the tokens that would close an n-gram already in each row's
  `history` [R, H] (its first `length` columns written), else 0."""
  rows, width = history.shape
  starts = jnp.arange(width - n + 1)
  if n == 1:  # every token written so far
    match = jnp.broadcast_to((starts < length)[None], history.shape)
  else:  # the row's last n - 1 tokens against every earlier window of n - 1 tokens
    last = jax.lax.dynamic_slice_in_dim(history, jnp.maximum(length - (n - 1), 0), n - 1,
                                        axis=1)
    windows = jnp.stack([history[:, i:i + width - n + 1] for i in range(n - 1)], axis=-1)
    match = jnp.all(windows == last[:, None, :], axis=-1)
    match &= (starts + n - 1 < length)[None] & (length >= n - 1)
  follow = history[:, n - 1:]  # the token each window was followed by
  banned = jnp.zeros((rows, vocab_size), bool).at[jnp.arange(rows)[:, None], follow].max(match)
  return jnp.where(banned, _NEG, 0.0)


def _step(model, token, cache):
  """Appends one token per row: (logits [B, V], cache)."""
  logits, cache = model.decode_step(token[:, None], cache)
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


@flax.struct.dataclass
class _Sampling:
  """The greedy / top-p loop's carry."""
  t: jax.Array  # tokens generated so far (the write column)
  logits: jax.Array  # [B, V] next-token logits
  cache: KVCache
  tokens: jax.Array  # [B, max_new_tokens] output, pad_id where not yet written
  done: jax.Array  # [B] rows that emitted EOS
  rng: jax.Array


def _decode_loop(model, logits, cache, *, max_new_tokens, eos_id, pad_id, method, top_p,
                 temperature, rng, bias, prompt, no_repeat_ngram):
  """Greedy or top-p sampling over the batch; stops when every row has ended."""
  b = logits.shape[0]

  def choose(logits, key, tokens, t):
    logits = _biased(logits, bias)
    if no_repeat_ngram:
      history = jnp.concatenate([prompt, tokens], axis=1)
      logits = logits + _repeat_bans(history, prompt.shape[1] + t, no_repeat_ngram,
                                     logits.shape[-1])
    if method == 'greedy':
      return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    filtered = _top_p_filter(logits / temperature, top_p)
    return jax.random.categorical(key, filtered, axis=-1).astype(jnp.int32)

  def body(c: _Sampling) -> _Sampling:
    rng, key = jax.random.split(c.rng)
    token = jnp.where(c.done, pad_id, choose(c.logits, key, c.tokens, c.t))
    logits, cache = _step(model, token, c.cache)
    return _Sampling(t=c.t + 1, logits=logits, cache=cache,
                     tokens=c.tokens.at[:, c.t].set(token),
                     done=c.done | (token == eos_id), rng=rng)

  def cond(c: _Sampling):
    return (c.t < max_new_tokens) & ~jnp.all(c.done)

  start = _Sampling(t=jnp.int32(0), logits=logits, cache=cache,
                    tokens=jnp.full((b, max_new_tokens), pad_id, jnp.int32),
                    done=jnp.zeros((b,), bool), rng=rng)
  return jax.lax.while_loop(cond, body, start).tokens


def _gather(tree, index):
  """Rows `index` [B*k] of every batched array of a cache."""
  return jax.tree.map(lambda x: x[index] if x.ndim else x, tree)


@flax.struct.dataclass
class _Beams:
  """The beam search's carry; b rows of k beams each."""
  t: jax.Array  # tokens generated so far (the write column)
  logits: jax.Array  # [b*k, V] next-token logits of the running beams
  cache: KVCache  # b*k rows
  running: jax.Array  # [b, k, L] the running beams' tokens
  running_scores: jax.Array  # [b, k] their summed log-probabilities
  finished: jax.Array  # [b, k, L] the best finished hypotheses
  finished_scores: jax.Array  # [b, k] their length-penalised scores
  is_finished: jax.Array  # [b, k] which finished slots hold a hypothesis
  improvable: jax.Array  # [b, 1] whether a running beam can still beat the finished ones
  all_hit: jax.Array  # every candidate of the last step stopped


def _beam_loop(model, logits, cache, *, max_new_tokens, eos_id, pad_id, num_beams,
               length_penalty, early_stopping, bias, prompt, no_repeat_ngram):
  """transformers' vectorised beam search with our cache; returns the best beam's tokens."""
  b, v = logits.shape
  k, keep = num_beams, 2 * num_beams
  repeat = lambda x: jnp.repeat(x, k, axis=0) if x.ndim else x
  rows = jnp.arange(b)[:, None]

  def body(c: _Beams) -> _Beams:
    t = c.t
    logp = _biased(jax.nn.log_softmax(c.logits.astype(jnp.float32), axis=-1), bias)
    if no_repeat_ngram:
      history = jnp.concatenate([jnp.repeat(prompt, k, axis=0),
                                 c.running.reshape(b * k, -1)], axis=1)
      logp = logp + _repeat_bans(history, prompt.shape[1] + t, no_repeat_ngram, v)
    logp = logp.reshape(b, k, v)
    scores = (logp + c.running_scores[:, :, None]).reshape(b, k * v)
    top_scores, top_index = jax.lax.top_k(scores, keep)
    beam, token = top_index // v, (top_index % v).astype(jnp.int32)
    top_seqs = c.running[rows, beam].at[:, :, t].set(token)  # [b, 2k, L]
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
      cand = cand + (jnp.all(c.is_finished, axis=-1, keepdims=True)) * _NEG
    cand = cand + (~c.improvable) * _NEG + (~just_done) * _NEG
    merged_scores = jnp.concatenate([c.finished_scores, cand], axis=1)
    merged_seqs = jnp.concatenate([c.finished, top_seqs], axis=1)
    merged_done = jnp.concatenate([c.is_finished, just_done], axis=1)
    finished_scores, best = jax.lax.top_k(merged_scores, k)
    finished, is_finished = merged_seqs[rows, best], merged_done[rows, best]

    # Reorder the cache to the surviving beams and feed their new tokens.
    logits, cache = _step(model, running[:, :, t].reshape(-1), _gather(c.cache, parent))

    length = (max_new_tokens if early_stopping == 'never' and length_penalty > 0 else t + 1)
    best_possible = alive_scores[:, :1] / (jnp.asarray(length, jnp.float32) ** length_penalty)
    worst = jnp.where(is_finished, jnp.min(finished_scores, axis=1, keepdims=True), _NEG)
    improvable = c.improvable & jnp.any(best_possible > worst, axis=-1, keepdims=True)
    return _Beams(t=t + 1, logits=logits, cache=cache, running=running,
                  running_scores=alive_scores, finished=finished,
                  finished_scores=finished_scores, is_finished=is_finished,
                  improvable=improvable, all_hit=jnp.all(hits))

  def cond(c: _Beams):
    open_beam = ~(jnp.all(c.is_finished) & (early_stopping is True))
    return (c.t < max_new_tokens) & jnp.any(c.improvable) & open_beam & ~c.all_hit

  start = _Beams(
      t=jnp.int32(0), logits=repeat(logits), cache=jax.tree.map(repeat, cache),
      running=jnp.full((b, k, max_new_tokens), pad_id, jnp.int32),
      running_scores=jnp.full((b, k), _NEG, jnp.float32).at[:, 0].set(0.0),
      finished=jnp.full((b, k, max_new_tokens), pad_id, jnp.int32),
      finished_scores=jnp.full((b, k), _NEG, jnp.float32),
      is_finished=jnp.zeros((b, k), bool), improvable=jnp.ones((b, 1), bool),
      all_hit=jnp.bool_(False))
  return jax.lax.while_loop(cond, body, start).finished[:, 0]


@functools.partial(jax.jit, static_argnames=(
    'graphdef', 'max_new_tokens', 'eos_id', 'pad_id', 'method', 'num_beams', 'length_penalty',
    'early_stopping', 'top_p', 'temperature', 'no_repeat_ngram'))
def _generate(graphdef, state, input_ids, attention_mask, context, images, rng, bias, *,
              max_new_tokens, eos_id, pad_id, method, num_beams, length_penalty, early_stopping,
              top_p, temperature, no_repeat_ngram=0):
  model = nnx.merge(graphdef, state)
  logits, cache = _prefill(model, input_ids, attention_mask, context, images, max_new_tokens)
  if method == 'beam':
    return _beam_loop(model, logits, cache, max_new_tokens=max_new_tokens,
                      eos_id=eos_id, pad_id=pad_id, num_beams=num_beams,
                      length_penalty=length_penalty, early_stopping=early_stopping, bias=bias,
                      prompt=input_ids, no_repeat_ngram=no_repeat_ngram)
  return _decode_loop(model, logits, cache, max_new_tokens=max_new_tokens,
                      eos_id=eos_id, pad_id=pad_id, method=method, top_p=top_p,
                      temperature=temperature, rng=rng, bias=bias, prompt=input_ids,
                      no_repeat_ngram=no_repeat_ngram)


def generate(model, input_ids, *, max_new_tokens: int, eos_id: int, pad_id: int,
             attention_mask=None, context=None, images=None, method: str = 'greedy',
             num_beams: int = 4, length_penalty: float = 1.0,
             early_stopping: bool | str = False, top_p: float = 0.9, temperature: float = 1.0,
             rng: jax.Array | None = None, logit_bias=None,
             no_repeat_ngram: int = 0) -> jax.Array:
  """Generates up to `max_new_tokens` tokens per row; int32 [B, max_new_tokens].

  Args:
    model: any model with `init_cache` / `prefill` / `decode_step`: GPT2LMHeadModel,
      GitForCausalLM or a Captioner; or its `nnx.split(model)` pair, which a caller
      that generates again and again makes once (splitting the demo's captioner
      took ~11 ms a call, more than its whole decoding loop).
    input_ids: [B, T] prompt ids (BOS, and a language tag, for the image-conditioned models).
    max_new_tokens: generated tokens per row (the output width).
    eos_id: the token that ends a row (kept in the output).
    pad_id: written after EOS.
    attention_mask: [B, T] for left-padded GPT-2 prompts (1 real, 0 padding).
    context: what the model is conditioned on: a Captioner's `condition(...)`
      [B, M, D], or GIT's projected image tokens.
    images: [B, S, S, 3] pixels, for a model with its own image tower (GIT).
    method: 'greedy' | 'beam' | 'sample' (top-p).
    num_beams: beams of 'beam'.
    length_penalty: beam score = sum log p / generated_length ** length_penalty.
    early_stopping: transformers' beam flag: False (heuristic), True or 'never'.
    top_p: nucleus mass of 'sample'.
    temperature: logits divisor of 'sample'.
    rng: PRNG key of 'sample'.
    logit_bias: [V] float added to every step's logits (-1e9 bans a token); None = none.
    no_repeat_ngram: n > 0 bans a token that would repeat an n-gram of the row (its
      prompt, padding included, and what it generated), as transformers'
      `no_repeat_ngram_size`; 0 = none.
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
  if no_repeat_ngram < 0:
    raise ValueError(f'no_repeat_ngram must be >= 0, got {no_repeat_ngram}')
  if context is not None and images is not None:
    raise ValueError('pass images or context, not both')
  input_ids = jnp.asarray(input_ids, jnp.int32)
  if input_ids.ndim != 2 or input_ids.shape[1] < 1:
    raise ValueError(f'input_ids must be [B, T] with T >= 1, got {input_ids.shape}')
  padded = attention_mask is not None and not bool(np.all(np.asarray(attention_mask)))
  mask = jnp.asarray(attention_mask, jnp.int32) if padded else None
  bias = None if logit_bias is None else jnp.asarray(logit_bias, jnp.float32)
  graphdef, state = model if isinstance(model, tuple) else nnx.split(model)
  return _generate(graphdef, state, input_ids, mask, context, images,
                   jax.random.key(0) if rng is None else rng, bias,
                   max_new_tokens=max_new_tokens, eos_id=int(eos_id), pad_id=int(pad_id),
                   method=method, num_beams=int(num_beams), length_penalty=float(length_penalty),
                   early_stopping=early_stopping, top_p=float(top_p),
                   temperature=float(temperature), no_repeat_ngram=int(no_repeat_ngram))


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
