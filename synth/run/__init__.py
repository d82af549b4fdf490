"""`synth run PIPELINE`: a pipeline file of named stages, each a `synth` command, run in dependency order.

    file.py   load and check the pipeline file (stages, references, workdir)
    argv.py   a stage as a command line, parsed by the command's own parser (its options class)
    cache.py  cache keys (the stage spec without runtime-only flags), run state, the workdir lock
    exec.py   running one stage as a `synth` subprocess

The command itself (flags, order, summary) is synth/commands/run.py.
"""
