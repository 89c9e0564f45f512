"""The strict copy: renamed, transposed tensors land in place; anything that does not line up
is named; export writes them back as they came."""

import numpy as np
import pytest
import torch
from flax import nnx

from wikiart_jax.convert import assign
from wikiart_jax.core import CheckpointError


class _Net(nnx.Module):
  def __init__(self, rngs):
    self.conv = nnx.Conv(3, 4, (2, 2), padding='VALID', rngs=rngs)  # torch pads nothing
    self.fc = nnx.Linear(4, 5, rngs=rngs)
    self.norm = nnx.LayerNorm(5, epsilon=1e-5, rngs=rngs)  # torch's


def _mapping():
  m = {'patch.weight': (('conv', 'kernel'), assign.conv), 'patch.bias': (('conv', 'bias'), assign.keep)}
  assign.add_linear(m, 'dense', ('fc',))
  assign.add_norm(m, 'ln', ('norm',))
  return m


def _torch_tensors(seed=0):
  """The same layers in torch, and their state dict under the checkpoint's names."""
  torch.manual_seed(seed)
  conv, fc, ln = torch.nn.Conv2d(3, 4, 2), torch.nn.Linear(4, 5), torch.nn.LayerNorm(5)
  with torch.no_grad():
    ln.weight.normal_()
    ln.bias.normal_()
  tensors = {f'{name}.{k}': v.numpy() for name, layer in (('patch', conv), ('dense', fc), ('ln', ln))
             for k, v in layer.state_dict().items()}
  return (conv, fc, ln), tensors


def test_loaded_layers_compute_what_torchs_do_and_export_gives_the_tensors_back():
  (conv, fc, ln), tensors = _torch_tensors()
  net = assign.abstract(_Net)
  assert sorted(assign.load_into(net, tensors, _mapping())) == sorted(tensors)
  x = np.random.default_rng(0).normal(size=(2, 3, 5, 5)).astype(np.float32)
  with torch.no_grad():
    want_conv = conv(torch.from_numpy(x)).numpy().transpose(0, 2, 3, 1)
    h = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    want_fc = ln(fc(torch.from_numpy(h))).numpy()
  np.testing.assert_allclose(net.conv(x.transpose(0, 2, 3, 1)), want_conv, atol=1e-5)
  np.testing.assert_allclose(net.norm(net.fc(h)), want_fc, atol=1e-5)
  exported = assign.export_tensors(net, _mapping())
  assert sorted(exported) == sorted(tensors)
  for key, value in tensors.items():
    np.testing.assert_array_equal(exported[key], value)


@pytest.mark.parametrize('edit, message', [
    (lambda t: t.pop('dense.bias'), "missing checkpoint key 'dense.bias' \\(for fc/bias\\)"),
    (lambda t: t.update({'extra.weight': np.zeros(2)}), "unexpected checkpoint key 'extra.weight'"),
    (lambda t: t.update({'dense.weight': np.zeros((4, 5))}),
     r"'dense.weight' has shape \(4, 5\), converted \(5, 4\), but fc/kernel is \(4, 5\)"),
])
def test_what_does_not_line_up_is_named(edit, message):
  _, tensors = _torch_tensors()
  edit(tensors)
  with pytest.raises(CheckpointError, match=message):
    assign.load_into(_Net(nnx.Rngs(0)), tensors, _mapping())


def test_a_parameter_nothing_writes_is_named_and_buffers_can_be_ignored():
  _, tensors = _torch_tensors()
  mapping = _mapping()
  del mapping['ln.bias']
  tensors.pop('ln.bias')
  with pytest.raises(CheckpointError, match='model parameter norm/bias has no checkpoint key'):
    assign.load_into(_Net(nnx.Rngs(0)), tensors, mapping)
  _, tensors = _torch_tensors()
  tensors['position_ids'] = np.arange(4)
  assign.load_into(_Net(nnx.Rngs(0)), tensors, _mapping(), ignore=[r'position_ids$'])


def test_a_partial_load_touches_only_the_included_keys():
  _, tensors = _torch_tensors()
  net = _Net(nnx.Rngs(0))
  conv_before = np.asarray(net.conv.kernel[...]).copy()
  assert assign.load_into(net, {'dense.weight': tensors['dense.weight'],
                                'dense.bias': tensors['dense.bias']},
                          _mapping(), include=['dense.']) == ['dense.bias', 'dense.weight']
  np.testing.assert_array_equal(net.fc.kernel[...], tensors['dense.weight'].T)
  np.testing.assert_array_equal(net.conv.kernel[...], conv_before)
  with pytest.raises(CheckpointError, match=r"no model parameter comes from the prefixes \['head.'\]"):
    assign.load_into(net, tensors, _mapping(), include=['head.'])
  with pytest.raises(CheckpointError, match='at least one key prefix'):
    assign.load_into(net, tensors, _mapping(), include=[])


def test_an_abstract_model_left_half_filled_is_refused():
  _, tensors = _torch_tensors()
  with pytest.raises(CheckpointError, match='was not loaded'):
    assign.load_into(assign.abstract(_Net), {k: v for k, v in tensors.items() if 'dense' in k},
                     _mapping(), include=['dense.'])


def test_the_axis_transforms_invert():
  w = np.arange(24.0).reshape(2, 3, 4)
  assert assign.add_axis(w[0]).shape == (1, 3, 4)
  np.testing.assert_array_equal(assign.INVERSES[assign.add_axis](assign.add_axis(w[0])), w[0])
  np.testing.assert_array_equal(assign.INVERSES[assign.add_two_axes](assign.add_two_axes(w[0, 0])),
                                w[0, 0])
  nested = assign.nest(_mapping(), ('backbone',))
  assert nested['dense.weight'][0] == ('backbone', 'fc', 'kernel')
