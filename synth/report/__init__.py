"""`synth inspect`: collect statistics from a dataset directory and render them (terminal or one HTML file)."""
