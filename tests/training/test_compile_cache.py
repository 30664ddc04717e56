"""The persistent compilation cache: on by default, configurable, switchable off."""

import os

import jax
import jax.numpy as jnp
import pytest

from kerax.training import compile_cache


@pytest.fixture
def clean_cache(monkeypatch):
    before = jax.config.jax_compilation_cache_dir
    min_secs = jax.config.jax_persistent_cache_min_compile_time_secs
    # Start as a user with no JAX cache of their own (the test command sets
    # one for the whole run).
    jax.config.update("jax_compilation_cache_dir", None)
    compile_cache._reset_jax_cache()
    yield monkeypatch
    compile_cache.disable()
    jax.config.update("jax_compilation_cache_dir", before)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_secs)
    compile_cache._reset_jax_cache()


def test_default_dir_follows_the_environment(clean_cache, tmp_path):
    clean_cache.delenv("KERAX_COMPILATION_CACHE_DIR", raising=False)
    clean_cache.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache.default_dir() == os.path.join(str(tmp_path), "kerax", "jax")
    clean_cache.setenv("KERAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
    assert compile_cache.default_dir() == str(tmp_path / "mine")
    for off in ("0", "off", "false"):
        clean_cache.setenv("KERAX_COMPILATION_CACHE_DIR", off)
        assert compile_cache.default_dir() is None


def test_enable_writes_compiled_programs(clean_cache, tmp_path):
    clean_cache.setenv("KERAX_COMPILATION_CACHE_MIN_SECS", "0")
    target = tmp_path / "cache"
    assert compile_cache.enable(str(target)) == str(target)
    assert oct(os.stat(target).st_mode & 0o777) == "0o700"
    jax.jit(lambda a: jnp.sin(a) * 3.0 + 1.0)(jnp.ones((7, 5))).block_until_ready()
    assert any("cache" in name for name in os.listdir(target))
    compile_cache.disable()
    assert compile_cache.cache_dir() is None


def test_a_users_own_jax_cache_is_left_alone(clean_cache, tmp_path):
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "users"))
    assert compile_cache.enable(str(tmp_path / "kerax")) == str(tmp_path / "users")
    compile_cache.disable()
    assert compile_cache.cache_dir() == str(tmp_path / "users")


def test_the_library_leaves_jax_config_alone(clean_cache, classification_data):
    from training_helpers import mlp

    import kerax
    from kerax.training import Trainer

    x, y = classification_data
    before = jax.config.jax_compilation_cache_dir
    trainer = Trainer(mlp(), "sgd", "sparse_categorical_crossentropy")
    trainer.fit(trainer.init(), x, y, batch_size=50, verbose=0)
    assert jax.config.jax_compilation_cache_dir == before
    assert kerax.training.enable_compilation_cache is compile_cache.enable
