"""Dedup as engine stages (see docs/ARCHITECTURE.md, "Stages"): what `synth filter --dedup ...` runs.

    sign             (job's tasks)   quality filters + decontam + signatures of the survivors (MinHash:
                                     lsh.BatchedSignature, datatrove's values and bucket files)
    minhash_buckets  (B tasks)       lsh.BandMatches: LSH band matches, past runs included, sharded on
                                     disk; matches whose whole signatures disagree are dropped
    minhash_cluster  (1 task)        components.ArrayCluster: connected duplicate clusters
    decide           (1 task)        all methods, keep-one policy, decision files, index publication
    main pipeline                    source -> ApplyDecisions -> writer

Every stage resumes by datatrove's completion files; the main pipeline by the writer's chunk markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synth.filters.dedup import index as ix
from synth.filters.dedup.apply import ApplyDecisions
from synth.filters.dedup.decide import DecideOptions, DecideStep
from synth.filters.dedup.minhash import MinhashOptions
from synth.filters.dedup.sign import SignStep

from synth.engine import Stage, StageContext

METHODS = ("exact", "minhash", "semantic", "trajectory")


@dataclass
class DedupPlan:
    methods: list[str]
    kind: str
    front: list                       # quality filter + decontam steps that run before signing
    decide: DecideOptions
    minhash: MinhashOptions = field(default_factory=MinhashOptions)
    model: str | None = None
    batch_size: int = 256

    def stages(self) -> list[Stage]:
        found = [Stage("sign", self._sign, progress=True)]
        if "minhash" in self.methods:
            found += [Stage("minhash_buckets", self._buckets, tasks=self.minhash.buckets),
                      Stage("minhash_cluster", self._cluster, tasks=1)]
        return found + [Stage("decide", self._decide, tasks=1)]

    def main_steps(self, out) -> list:
        return [ApplyDecisions(str(out / ".synth" / "stages" / "decide" / "decisions"))]

    def _sign(self, ctx: StageContext) -> list:
        forward = "minhash" in self.methods
        steps = [ctx.source(), *self.front,
                 SignStep(str(ctx.dir), self.kind, self.methods, self.model, self.batch_size, forward)]
        if forward:
            from synth.filters.dedup.lsh import BatchedSignature

            steps.append(BatchedSignature(str(ctx.dir / "minhash"), self.minhash))
        return steps

    def _buckets(self, ctx: StageContext) -> list:
        from synth.filters.dedup.lsh import BandMatches

        sigs = ctx.stage_dir("sign") / "minhash"
        ix.link_minhash(self.decide.index, ix.run_key(ctx.config_hash, ctx.out), sigs, self.minhash.buckets)
        return [BandMatches(str(sigs), str(ctx.dir / "dups"), self.minhash)]

    def _cluster(self, ctx: StageContext) -> list:
        from synth.filters.dedup.components import ArrayCluster

        return [ArrayCluster(str(ctx.stage_dir("minhash_buckets") / "dups"), str(ctx.dir))]

    def _decide(self, ctx: StageContext) -> list:
        self.decide.run_key = ix.run_key(ctx.config_hash, ctx.out)
        self.decide.run_info = {"out": str(ctx.out.resolve()), "kind": self.kind, "config_hash": ctx.config_hash}
        return [DecideStep(str(ctx.stage_dir("sign")), str(ctx.stage_dir("minhash_cluster")), str(ctx.dir),
                           ctx.total, ctx.tasks, self.decide)]
