"""The demo warehouse: its generator, data graph and example audiences."""
