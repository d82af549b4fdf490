"""Turn-level supervision for agent trajectories (`synth label turns`).

    evidence.py  what a trajectory has learned so far, measured against the task's gold evidence
    rule.py      the rule judge: information gain per assistant turn (new gold document or fact; redundant;
                 error; recovery), plus the final answer's correctness
    critic.py    the LLM critic: logical soundness, call accuracy, information gain (1-5, JSON schema) and
                 essential / unnecessary, one teacher call per assistant turn
    apply.py     labels -> per-message loss (0/1; tool, user and system always 0), weight, turn_label;
                 label statistics for the manifest
"""
