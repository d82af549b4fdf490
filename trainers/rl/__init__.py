"""RL in the bundled trainer: `synth train --mode grpo`.

    options.py     checks of the grpo flags (fields of TrainConfig), the --keep-pass LO:HI/N spec
    engines.py     rollout engines behind one interface: in-process vLLM (weights synced each step), HF generate
    rollout.py     rollouts as exact sampled token spans inside the sequences the policy saw; single-turn rollouts
    tasks.py       code (the gated complexity-aware reward, two stages), prompts (a user reward function)
    agent.py       search: multi-turn agent rollouts in the deep-search environment through the trajectory
                   harness; answer judge (trajectory reward) + rule turn judge (turn-level credit)
    advantages.py  group-relative advantages, turn-credit mix, loss masks (sampled tokens only, truncation)
    objective.py   clipped token-level GRPO loss with optional KL (k3) to the starting policy
    selection.py   the prompt pool and the pass-rate filter computed with the current policy
    train.py       the step loop on the trainer's model, optimizer, checkpoints, train_log.jsonl and manifest
"""
