"""Process-group plumbing: one code path for 1 process and for torchrun (NCCL on GPUs, gloo on CPUs)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class Env:
    rank: int
    world: int
    local_rank: int
    device: torch.device
    mesh: object | None = None

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str = "auto") -> Env:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("--device cuda but no CUDA device is visible")
    dev = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    env = Env(rank, world, local, dev)
    if world > 1:
        import torch.distributed as dist
        from torch.distributed.device_mesh import init_device_mesh

        if not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo")
        env.mesh = init_device_mesh(dev.type, (world,))
    return env


def teardown(env: Env) -> None:
    if env.world > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def all_reduce_sum(env: Env, values: torch.Tensor) -> torch.Tensor:
    if env.world > 1:
        import torch.distributed as dist

        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def barrier(env: Env) -> None:
    if env.world > 1:
        import torch.distributed as dist

        dist.barrier()
