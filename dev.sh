#!/usr/bin/env bash
# Set up MindGarden in .venv (building llama-cpp-python once, cached), then open the app or run the tests.
#   ./dev.sh app     set up and open the app on the bundled model
#   ./dev.sh test    set up and run the full test suite
#   ./dev.sh setup   set up only
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV=".venv"
LLAMA_VERSION="0.3.36"
# A portable x86-64 build: GGML_NATIVE would also compile llama.cpp's AMX kernels, which crash
# in llama_decode on Xeon machines whose kernel does not grant AMX tile state to the process.
if [ "$(uname -m)" = "x86_64" ]; then
    LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
else
    LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:-}"
fi
BUILD_KEY="$(printf '%s %s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" "$("$PYTHON" -c 'import sys; print(sys.version_info[:2])')" | sha256sum | cut -c1-12)"
WHEEL_DIR="${MINDGARDEN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mindgarden/wheels}/llama-cpp-python-$LLAMA_VERSION-$BUILD_KEY"

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip wheel setuptools

    # Build llama-cpp-python from source once per version and flags; later setups reuse the wheel.
    if ! ls "$WHEEL_DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        echo "Building llama-cpp-python $LLAMA_VERSION (about 5 minutes on 2 cores, once)..."
        mkdir -p "$WHEEL_DIR"
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$VENV/bin/python" -m pip wheel -q --disable-pip-version-check \
            --no-deps --no-binary llama-cpp-python -w "$WHEEL_DIR" "llama-cpp-python==$LLAMA_VERSION"
    fi
    wheel="$(ls "$WHEEL_DIR"/llama_cpp_python-*.whl | head -n 1)"
    if [ "$(cat "$VENV/.llama-wheel" 2>/dev/null)" != "$wheel" ]; then
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall "$wheel"
        echo "$wheel" > "$VENV/.llama-wheel"
    fi

    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
    "$VENV/bin/mindgarden" fetch-model >/dev/null
}

case "${1:-app}" in
    setup) setup ;;
    app) setup; shift || true; exec "$VENV/bin/mindgarden" "$@" ;;
    test) setup; shift || true; exec "$VENV/bin/python" -m pytest "$@" ;;
    *) echo "usage: ./dev.sh [app|test|setup] [arguments]" >&2; exit 2 ;;
esac
