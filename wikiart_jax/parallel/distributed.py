"""Multi-process (multi-host) start-up: `jax.distributed.initialize` when asked for.

Every process runs the same command; they meet at a coordinator (process 0's
host:port) before JAX touches a device. What to join comes from
`config.distributed` when set, else the usual environment variables:

  JAX_COORDINATOR_ADDRESS  host:port of process 0 (JAX reads it too)
  JAX_NUM_PROCESSES        number of processes
  JAX_PROCESS_ID           this process's index, 0 .. num_processes - 1

Under SLURM (srun) or Open MPI (mpirun) JAX detects all three itself; we only
need to know that there is more than one process. One process: nothing to do.
"""

import os

import jax
import ml_collections


def _int_env(name: str) -> int | None:
  value = os.environ.get(name, '').strip()
  if not value:
    return None
  try:
    return int(value)
  except ValueError:
    raise ValueError(f'environment variable {name}={value!r} is not an integer') from None


def _cluster_size() -> int | None:
  """Process count announced by a launcher JAX can read the rest from, else None."""
  if os.environ.get('SLURM_JOB_ID'):
    return _int_env('SLURM_NTASKS')
  return _int_env('OMPI_COMM_WORLD_SIZE')


def settings(config: ml_collections.ConfigDict) -> dict:
  """The (coordinator_address, num_processes, process_id) this run asks for.

  Values left unset (None) are left to JAX's cluster detection.
  """
  section = config.distributed
  address = section.coordinator_address or os.environ.get('JAX_COORDINATOR_ADDRESS') or None
  num = section.num_processes or _int_env('JAX_NUM_PROCESSES')
  pid = section.process_id if section.process_id >= 0 else _int_env('JAX_PROCESS_ID')
  if num is not None and num < 1:
    raise ValueError(f'distributed.num_processes={num} must be >= 1')
  if num is not None and pid is not None and not 0 <= pid < num:
    raise ValueError(f'distributed.process_id={pid} is outside 0..{num - 1}')
  return dict(coordinator_address=address, num_processes=num, process_id=pid)


def initialize(config: ml_collections.ConfigDict) -> bool:
  """Joins the other processes when this run has several; call before any device use.

  Returns:
    True when `jax.distributed` is initialized (now or before), False for a
    single-process run (a no-op).
  """
  if jax.distributed.is_initialized():
    return True
  args = settings(config)
  count = args['num_processes'] or _cluster_size() or 1
  if count == 1:
    return False
  if args['num_processes'] is not None and args['process_id'] is None and not _cluster_size():
    raise ValueError(f'{count} processes asked for but no process id: set '
                     'distributed.process_id or JAX_PROCESS_ID')
  # Cross-process collectives of the CPU backend need gloo (DESIGN.md pitfalls);
  # GPU collectives go through NCCL whatever this says. Guarded: a JAX that has
  # only gloo may drop the option.
  if hasattr(jax.config, 'jax_cpu_collectives_implementation'):
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  try:
    jax.distributed.initialize(**args)
  except (RuntimeError, ValueError) as e:  # bad address, timeout, missing fields
    raise ValueError(f'jax.distributed.initialize({args}) failed: '
                     f'{str(e).splitlines()[0] if str(e) else type(e).__name__}') from e
  return True
