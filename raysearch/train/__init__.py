"""The trainer: the epoch loop (``loop.fit``), one epoch (``epoch``), evaluation
(``evaluate``), checkpoints, early stopping, the LR schedule, collapse detection, and the
Ray Train wrapper (``ray_train``, the only module here that knows Ray). ``fit`` runs alone
in a test, in one process, with no Ray. Import from the modules; this file imports nothing.
"""
