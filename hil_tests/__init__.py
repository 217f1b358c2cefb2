"""The HIL bench framework: bench YAML, rigs (simulated or real), and the bench tests."""
