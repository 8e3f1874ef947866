"""The behaviour model: primitives, local effects, the call-graph fixpoint, shapes."""
