"""The guide ports are scripts run by test_guides.py, never imported at collection.

`--doctest-modules` imports every module under tests/ to look for examples;
a port runs its whole guide when imported, so collection leaves them alone.
"""

collect_ignore = [
    "custom_train_step_in_jax.py",
    "functional_api.py",
    "making_new_layers_and_models_via_subclassing.py",
    "serialization_and_saving.py",
    "training_with_built_in_methods.py",
    "writing_a_custom_training_loop_in_jax.py",
]
