"""`kerax.config`, `kerax.backend`, `kerax.mixed_precision`: Keras's global names."""

import jax
import pytest

import kerax


@pytest.fixture
def restore_policy():
    before = kerax.dtype_policy()
    yield
    kerax.set_dtype_policy(before)


def test_floatx_is_the_global_policy(restore_policy):
    assert kerax.config.floatx() == "float32" and kerax.config.backend() == "jax"
    kerax.config.set_floatx("float16")
    assert kerax.layers.Dense(2).policy.compute_dtype == "float16"
    kerax.mixed_precision.set_global_policy("mixed_bfloat16")
    assert kerax.config.floatx() == "float32"  # Keras: floatx is the variable dtype.
    assert kerax.mixed_precision.global_policy().compute_dtype == "bfloat16"
    with pytest.raises(ValueError, match="set_dtype_policy"):
        kerax.config.set_floatx("mixed_float16")
    if not jax.config.jax_enable_x64:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            kerax.config.set_floatx("float64")


def test_settings_without_a_kerax_counterpart_say_so():
    with pytest.raises(RuntimeError, match="kerax.register"):
        kerax.config.enable_unsafe_deserialization()
    assert kerax.config.image_data_format() == "channels_last"
    assert kerax.backend.epsilon() == 1e-7


def test_clear_session_empties_the_output_spec_cache():
    layer = kerax.layers.Dense(3)
    layer.output_spec(kerax.spec((None, 4)))
    from kerax.core import layer as layer_module

    assert layer_module._output_spec.cache_info().currsize > 0
    kerax.backend.clear_session()
    assert layer_module._output_spec.cache_info().currsize == 0
