"""Device listing, and the GPU layer count chosen from free memory."""

from __future__ import annotations

from mindgarden.engine.devices import ALL_LAYERS, choose_gpu_layers, list_devices
from mindgarden.engine.gguf import read_gguf
from mindgarden.engine.memory import OVERHEAD_BYTES


def test_cpu_device_listed():
    devices = list_devices()
    cpu = [device for device in devices if device.kind == "cpu"]
    assert cpu
    assert cpu[0].total > 0


def test_all_layers_fit_in_large_gpu(model_path):
    info = read_gguf(model_path)
    assert choose_gpu_layers(info, 8192, 24 << 30) == ALL_LAYERS


def test_half_memory_gives_part_of_layers(model_path):
    info = read_gguf(model_path)
    whole = info.file_size + 8192 * 30 * 3 * 128 * 2
    layers = choose_gpu_layers(info, 8192, OVERHEAD_BYTES + whole // 2)
    assert 10 <= layers <= 20


def test_no_free_memory_gives_cpu(model_path):
    info = read_gguf(model_path)
    assert choose_gpu_layers(info, 8192, 0) == 0
    assert choose_gpu_layers(info, 8192, OVERHEAD_BYTES // 2) == 0
