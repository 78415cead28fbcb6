"""Loss strategies: one module each, one interface (``base.LossStrategy``), and a name
registry (``registry.build_strategy``)."""
