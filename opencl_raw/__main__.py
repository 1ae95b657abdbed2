"""Command line of opencl_raw: ``python -m opencl_raw [list | info ... | demo ...]`` (also ``opencl-raw``).

- ``list`` (the default with no argument): the platforms and devices, in the
  loader's order, in the layout of ``clinfo -l``.
- ``info [--raw | --json]``: every info param of every platform and device
  (and the work-group values of a small kernel per device), like ``clinfo``;
  see :mod:`opencl_raw._info_tool`.
- ``demo``: the twelve steps of an OpenCL host program, written with the handle
  layer, running a 2-D convolution kernel (``conv2d``) over a float32 grayscale
  image with several small filters and checking each result against a numpy
  reference.

Exit codes: 0 success; 1 a failure while running (an OpenCL error, or a result
outside the tolerance); 2 a bad invocation or environment (unknown option, no
matching platform or device, no OpenCL library, unreadable image).

The helpers used by the demo (image loading, the test picture, the filters and
the numpy reference convolution) are plain functions of this module.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import List, Optional, Sequence, TextIO, Tuple

import numpy as np

#: OpenCL C source of the demo kernel. True 2-D convolution, clamp-to-edge borders:
#: dst[y, x] = sum_{i, j} filt[i, j] * src[clamp(y + fh/2 - i), clamp(x + fw/2 - j)].
#: Work-item (x, y) = (get_global_id(0), get_global_id(1)) computes one output pixel.
KERNEL_SOURCE = """\
__kernel void conv2d(__global const float *restrict src,
                     __global float *restrict dst,
                     __constant float *restrict filt,
                     const int width, const int height,
                     const int fwidth, const int fheight)
{
    const int x = (int)get_global_id(0);
    const int y = (int)get_global_id(1);
    if (x >= width || y >= height)
        return;
    const int rx = fwidth / 2;
    const int ry = fheight / 2;
    float acc = 0.0f;
    for (int i = 0; i < fheight; ++i) {
        const int row = clamp(y + ry - i, 0, height - 1) * width;
        for (int j = 0; j < fwidth; ++j) {
            const int col = clamp(x + rx - j, 0, width - 1);
            acc += filt[i * fwidth + j] * src[row + col];
        }
    }
    dst[y * width + x] = acc;
}
"""

KERNEL_NAME = "conv2d"
DEFAULT_SIZE = 1024          # side of the generated test picture, pixels
DEFAULT_TOLERANCE = 1e-3     # allowed max abs error, as a fraction of the image's value range

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad invocation or environment: reported in one line, exit code 2."""


# --------------------------------------------------------------------------- #
# Images
# --------------------------------------------------------------------------- #

_WHITESPACE = b" \t\r\n\v\f"


def read_pgm(path: str) -> np.ndarray:
    """Read a binary (P5) PGM file as float32 grayscale scaled to [0, 1].

    Args:
        path: file name. The header is ``P5 width height maxval`` separated by
            whitespace, with ``#`` comments to the end of a line, then one
            whitespace byte and the pixels, row by row: one byte each when
            maxval < 256, else two bytes, big-endian (8- or 16-bit images).
            Only the first image of a multi-image file is read.

    Returns:
        float32 array of shape (height, width), pixel / maxval.

    Raises:
        OSError: the file cannot be read.
        ValueError: not a P5 file, a malformed header, or too few pixel bytes.
    """
    with open(path, "rb") as f:
        data = f.read()
    tokens: List[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and (data[pos] in _WHITESPACE or data[pos] == ord("#")):
            if data[pos] == ord("#"):
                ends = [e for e in (data.find(b"\n", pos), data.find(b"\r", pos)) if e >= 0]
                pos = min(ends) + 1 if ends else len(data)
            else:
                pos += 1
        start = pos
        while pos < len(data) and data[pos] not in _WHITESPACE and data[pos] != ord("#"):
            pos += 1
        if start == pos:
            raise ValueError(f"{path}: truncated PGM header")
        tokens.append(data[start:pos])
        if len(tokens) == 1 and tokens[0] != b"P5":
            kind = "an ASCII (P2) PGM" if tokens[0] == b"P2" else "not a PGM file"
            raise ValueError(f"{path}: {kind}; only binary PGM (magic P5) is supported")
    try:
        width, height, maxval = (int(t) for t in tokens[1:])
    except ValueError:
        raise ValueError(f"{path}: malformed PGM header {b' '.join(tokens)!r}") from None
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise ValueError(f"{path}: bad PGM header: width {width}, height {height}, maxval {maxval}")
    if pos >= len(data) or data[pos] not in _WHITESPACE:
        raise ValueError(f"{path}: truncated PGM header")
    pos += 1
    dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
    count = width * height
    if len(data) - pos < count * dtype.itemsize:
        raise ValueError(f"{path}: {len(data) - pos} bytes of pixels, expected {count * dtype.itemsize} "
                         f"for {width}x{height} at maxval {maxval}")
    pixels = np.frombuffer(data, dtype=dtype, count=count, offset=pos).reshape(height, width)
    return (pixels.astype(np.float32) / np.float32(maxval)).astype(np.float32)


def _to_gray(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] in (3, 4):
        weights = np.array([0.299, 0.587, 0.114])      # ITU-R BT.601 luma; alpha is dropped
        array = array[..., :3].astype(np.float64) @ weights
    if array.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D grayscale image (or H x W x 3/4 colour), got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what}: cannot use a {array.dtype} array as an image")
    return np.ascontiguousarray(array, dtype=np.float32)


def read_png(path: str) -> np.ndarray:
    """Read a PNG (or any format Pillow reads) as float32 grayscale scaled to [0, 1].

    Args:
        path: file name. Colour images are converted to luma (Pillow's "L"
            conversion); 8-bit images are divided by 255, 16-bit ones by 65535.

    Returns:
        float32 array of shape (height, width).

    Raises:
        ModuleNotFoundError: Pillow is not installed (the message says how to install it).
        OSError: the file cannot be read or decoded.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ModuleNotFoundError(
            f"{path}: reading PNG needs Pillow, which is not installed; install it with "
            "'python -m pip install Pillow' (or pip install 'opencl_raw[image]'), "
            "or convert the image to .npy or binary .pgm") from None
    with Image.open(path) as im:
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            array = np.asarray(im, dtype=np.float64)
            scale = 65535.0
        elif im.mode == "F":
            array, scale = np.asarray(im, dtype=np.float64), 1.0
        else:
            array, scale = np.asarray(im.convert("L"), dtype=np.float64), 255.0
    return _to_gray(array / scale, path)


def load_image(path: str) -> np.ndarray:
    """Load an image file as a float32 grayscale array, chosen by extension.

    Args:
        path: ``.npy`` (a 2-D array of any real dtype, or H x W x 3/4 colour, cast
            to float32 with its values kept), ``.pgm`` (binary P5, see
            :func:`read_pgm`) or ``.png`` (needs Pillow, see :func:`read_png`).

    Returns:
        C-contiguous float32 array of shape (height, width), all values finite.

    Raises:
        OSError: the file cannot be read.
        ValueError: an unknown extension, a malformed file, a wrong shape or dtype,
            an empty image, or NaN / infinite values.
        ModuleNotFoundError: a PNG without Pillow installed.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{path}: expected one array, got {type(array).__name__}")
        image = _to_gray(array, path)
    elif ext in (".pgm", ".pnm"):
        image = read_pgm(path)
    elif ext == ".png":
        image = read_png(path)
    else:
        raise ValueError(f"{path}: unknown image type {ext or '(no extension)'!r}; use .npy, .pgm (P5) or .png")
    if image.size == 0:
        raise ValueError(f"{path}: the image is empty (shape {image.shape})")
    if not np.isfinite(image).all():
        raise ValueError(f"{path}: the image contains NaN or infinite values")
    return image


def make_test_image(height: int = DEFAULT_SIZE, width: int = DEFAULT_SIZE, seed: int = 12345) -> np.ndarray:
    """A deterministic synthetic test picture: gradients, filled circles, a bar and noise.

    Args:
        height, width: size in pixels (positive ints).
        seed: seed of numpy's default_rng for the circles and the noise; the same
            arguments always give the same picture.

    Returns:
        C-contiguous float32 array of shape (height, width), values in [0, 1].

    Raises:
        ValueError: a size below 1.
    """
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    image = 0.35 * x + 0.15 * y + 0.1 * np.sin(6 * np.pi * x * y)
    for _ in range(12):
        cy, cx = rng.uniform(0.0, 1.0, 2)
        radius = rng.uniform(0.03, 0.15)
        image = image + np.where((y - cy) ** 2 + (x - cx) ** 2 < radius ** 2, rng.uniform(-0.3, 0.4), 0.0)
    image = image + np.where((np.abs(x - 0.5) < 0.02) & (y > 0.2) & (y < 0.8), 0.3, 0.0)
    image = image + rng.normal(0.0, 0.03, (height, width))
    return np.ascontiguousarray(np.clip(image, 0.0, 1.0), dtype=np.float32)


# --------------------------------------------------------------------------- #
# Filters and the numpy reference
# --------------------------------------------------------------------------- #

def gaussian_filter(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A normalized ``size`` x ``size`` Gaussian blur filter.

    Args:
        size: odd side length in pixels; sigma: standard deviation in pixels (> 0).

    Returns:
        float32 array of shape (size, size) summing to 1.

    Raises:
        ValueError: an even or non-positive size, or sigma <= 0.
    """
    if size < 1 or size % 2 == 0 or not sigma > 0:
        raise ValueError(f"need an odd positive size and sigma > 0, got size {size}, sigma {sigma}")
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2.0 * sigma ** 2))
    return (g / g.sum()).astype(np.float32)


#: 3x3 Sobel filter for horizontal gradients (float32).
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
#: 3x3 sharpen filter (float32, sums to 1).
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)


def demo_filters() -> List[Tuple[str, np.ndarray]]:
    """The demo's (name, float32 filter) pairs, in the order they run: 5x5 Gaussian, Sobel x, sharpen."""
    return [("gaussian", gaussian_filter(5, 1.0)), ("sobel-x", SOBEL_X), ("sharpen", SHARPEN)]


def convolve2d_reference(image: np.ndarray, filt: np.ndarray) -> np.ndarray:
    """2-D convolution with clamp-to-edge borders, in numpy (the demo's reference).

    ``out[y, x] = sum_{i, j} filt[i, j] * image[clamp(y + fh//2 - i), clamp(x + fw//2 - j)]``,
    a true convolution (the filter is flipped), where clamp limits a row to
    [0, height - 1] and a column to [0, width - 1]. Computed by padding the image
    with ``np.pad(mode='edge')`` and summing shifted slices, in float64.

    Args:
        image: 2-D array (height, width) of real numbers.
        filt: 2-D array (fh, fw) with odd fh and fw.

    Returns:
        float64 array of shape (height, width).

    Raises:
        ValueError: a non-2-D image or filter, an empty one, or an even filter side.
    """
    image = np.asarray(image, dtype=np.float64)
    filt = np.asarray(filt, dtype=np.float64)
    if image.ndim != 2 or filt.ndim != 2 or image.size == 0 or filt.size == 0:
        raise ValueError(f"need a non-empty 2-D image and filter, got shapes {image.shape} and {filt.shape}")
    fh, fw = filt.shape
    if fh % 2 == 0 or fw % 2 == 0:
        raise ValueError(f"filter sides must be odd, got {fh}x{fw}")
    ry, rx = fh // 2, fw // 2
    height, width = image.shape
    padded = np.pad(image, ((ry, ry), (rx, rx)), mode="edge")
    out = np.zeros_like(image)
    for i in range(fh):
        for j in range(fw):
            if filt[i, j] != 0.0:
                out += filt[i, j] * padded[2 * ry - i:2 * ry - i + height, 2 * rx - j:2 * rx - j + width]
    return out


# --------------------------------------------------------------------------- #
# list
# --------------------------------------------------------------------------- #

def list_devices(out: TextIO = sys.stdout) -> int:
    """Print every platform and its devices in the loader's order, like ``clinfo -l``.

    Layout: ``Platform #<i>: <name>``, then per device `` +-- Device #<j>: <name>``
    (`` `-- `` for the last one).

    Args:
        out: text stream to print to.

    Returns:
        The exit code: 0 (also when there is no platform; a note goes to stderr).

    Raises:
        FunctionUnavailableError: no OpenCL library could be loaded (the binding's
            first call reports it so; :func:`main` checks the library first).
        CLError: enumerating platforms failed.
    """
    from . import raw
    from .errors import CLError
    from .platform import get_platform_ids
    platforms = get_platform_ids()
    if not platforms:
        print("no OpenCL platform found", file=sys.stderr)
    for i, platform in enumerate(platforms):
        print(f"Platform #{i}: {platform.get_info(raw.CL_PLATFORM_NAME)}", file=out)
        try:
            devices = platform.get_device_ids()
        except CLError as exc:
            print(f" `-- (cannot list devices: {exc})", file=out)
            continue
        for j, device in enumerate(devices):
            branch = "`--" if j == len(devices) - 1 else "+--"
            print(f" {branch} Device #{j}: {device.get_info(raw.CL_DEVICE_NAME)}", file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- #
# demo
# --------------------------------------------------------------------------- #

def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _ns_ms(nanoseconds: int) -> str:
    return f"{nanoseconds / 1e6:.3f} ms"


def _build(context, device, source_program, say) -> Tuple[object, str]:
    """Step 4: compile + link when the device has a linker, else clBuildProgram. Returns (program, how)."""
    from . import raw
    from .errors import CLError, FunctionUnavailableError
    try:
        has_linker = device.version_tuple >= (1, 2) and bool(device.get_info(raw.CL_DEVICE_LINKER_AVAILABLE))
    except CLError:
        has_linker = False
    if has_linker:
        try:
            t0 = time.perf_counter()
            source_program.compile("", [device])
            t1 = time.perf_counter()
            program = context.link_program([source_program], "", [device])
            t2 = time.perf_counter()
            return program, f"clCompileProgram {_ms(t1 - t0)} + clLinkProgram {_ms(t2 - t1)}"
        except FunctionUnavailableError:
            pass
    say("  (the device has no linker: using clBuildProgram)")
    t0 = time.perf_counter()
    source_program.build("", [device])
    return source_program, f"clBuildProgram {_ms(time.perf_counter() - t0)}"


def run_demo(platform: Optional[str] = None, device: Optional[str] = None, image_path: Optional[str] = None,
             tolerance: float = DEFAULT_TOLERANCE, out: TextIO = sys.stdout) -> int:
    """Run the twelve-step OpenCL demo (2-D convolution) and check it against numpy.

    Args:
        platform, device: index or case-insensitive name substring, as for
            :func:`opencl_raw.platform.select_device` (None: the environment
            variables OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE, then index 0).
        image_path: an image file for :func:`load_image`; None generates the
            1024x1024 picture of :func:`make_test_image`.
        tolerance: the allowed maximum absolute error per filter, as a fraction
            of the image's value range (max - min; 1 for a constant image). A
            negative value always fails (a way to test the failure path).
        out: text stream for the report.

    Returns:
        0 when every filter's result is within the tolerance, 1 otherwise (the
        reason is printed to stderr).

    Raises:
        UsageError: no platform or device matches, or the image cannot be loaded.
        FunctionUnavailableError: no OpenCL library could be loaded, or the
            driver lacks a function the demo needs.
        CLError: an OpenCL call failed (build failures carry the build log).
    """
    from . import raw
    from .context import Context
    from .platform import get_platform_ids, select_device

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    # Inputs first, so that a bad image or selection fails before any output.
    try:
        image = load_image(image_path) if image_path else make_test_image()
    except (OSError, ValueError, ImportError) as exc:
        raise UsageError(str(exc)) from None
    height, width = image.shape
    lo, hi = float(image.min()), float(image.max())
    value_range = hi - lo if hi > lo else 1.0
    allowed = tolerance * value_range

    # Step 1: enumerate platforms and devices, select one.
    platforms = get_platform_ids()
    n_devices = sum(len(p.get_device_ids()) for p in platforms)
    try:
        dev = select_device(platform, device)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    plat = dev.get_info(raw.CL_DEVICE_PLATFORM)
    say(f"Step 1: enumerate platforms and devices: {len(platforms)} platform(s), {n_devices} device(s); select one")
    say(f"  Platform: {plat.get_info(raw.CL_PLATFORM_NAME)} ({plat.get_info(raw.CL_PLATFORM_VERSION).strip()})")
    say(f"  Device: {dev.get_info(raw.CL_DEVICE_NAME)} ({dev.get_info(raw.CL_DEVICE_VERSION).strip()}, "
        f"{dev.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS)} compute units)")
    origin = image_path if image_path else "generated test picture"
    say(f"  Image: {origin}, {width}x{height} float32, values [{lo:.6g}, {hi:.6g}]")

    filters = demo_filters()
    max_taps = max(f.size for _, f in filters)
    failures: List[str] = []
    summary: List[Tuple[str, int, float, bool]] = []

    with contextlib.ExitStack() as stack:
        owned: List[object] = []

        def keep(obj):
            """Register ``obj`` for release at step 12 (or on an error), newest first."""
            owned.append(obj)
            return stack.enter_context(obj)

        say("Step 2: create a context and a command queue with profiling enabled")
        context = keep(Context([dev]))
        queue = keep(
            context.create_command_queue_with_properties(dev, raw.CL_QUEUE_PROFILING_ENABLE))

        say(f"Step 3: load the program from OpenCL C source ({KERNEL_SOURCE.count(chr(10))} lines)")
        source_program = keep(context.create_program_with_source(KERNEL_SOURCE))

        say("Step 4: build the program (compile + link)")
        t0 = time.perf_counter()
        program, how = _build(context, dev, source_program, say)
        build_s = time.perf_counter() - t0
        if program is not source_program:
            keep(program)
        say(f"  build time: {_ms(build_s)} ({how})")

        say(f"Step 5: create the kernel '{KERNEL_NAME}'")
        kernel = keep(program.create_kernel(KERNEL_NAME))

        say(f"Step 6: create buffers: image and result {image.nbytes / 2**20:.2f} MiB each, "
            f"filter {max_taps * 4} bytes")
        src_buf = keep(context.create_buffer(raw.CL_MEM_READ_ONLY, image.nbytes))
        dst_buf = keep(context.create_buffer(raw.CL_MEM_WRITE_ONLY, image.nbytes))
        filt_buf = keep(context.create_buffer(raw.CL_MEM_READ_ONLY, max_taps * 4))
        result = np.empty_like(image)

        for round_no, (name, filt) in enumerate(filters):
            indent = "  " if round_no else ""
            if round_no:
                say(f"Step 11: repeat steps 7-10 with filter {round_no + 1}/{len(filters)}: {name}")
            fh, fw = filt.shape
            say(f"{indent}Step 7: set kernel arguments (filter {name}, {fw}x{fh})")
            kernel.set_args(src_buf, dst_buf, filt_buf, np.int32(width), np.int32(height),
                            np.int32(fw), np.int32(fh))

            t0 = time.perf_counter()
            with queue.enqueue_write_buffer(src_buf, image) as ev_image, \
                    queue.enqueue_write_buffer(filt_buf, np.ascontiguousarray(filt, dtype=np.float32)) as ev_filt:
                write_s = time.perf_counter() - t0
                write_ns = ev_image.duration_ns + ev_filt.duration_ns
            say(f"{indent}Step 8: write buffers (image + filter, {image.nbytes + filt.nbytes} bytes): "
                f"{_ms(write_s)} host, {_ns_ms(write_ns)} profiled")

            t0 = time.perf_counter()
            with queue.enqueue_nd_range_kernel(kernel, (width, height)) as ev_kernel:
                ev_kernel.wait()
                run_s = time.perf_counter() - t0
                kernel_ns = ev_kernel.duration_ns
            rate = width * height / (kernel_ns * 1e-9) / 1e6 if kernel_ns > 0 else float("inf")
            say(f"{indent}Step 9: run the NDRange kernel, global size {width}x{height}: "
                f"{_ns_ms(kernel_ns)} profiled ({rate:.3g} Mpixel/s), {_ms(run_s)} host")

            t0 = time.perf_counter()
            with queue.enqueue_read_buffer(dst_buf, result) as ev_read:
                read_s = time.perf_counter() - t0
                read_ns = ev_read.duration_ns
            say(f"{indent}Step 10: read buffers (result, {result.nbytes} bytes): "
                f"{_ms(read_s)} host, {_ns_ms(read_ns)} profiled")

            expected = convolve2d_reference(image, filt)
            error = float(np.max(np.abs(result.astype(np.float64) - expected)))
            ok = error <= allowed
            say(f"{indent}  max abs error vs numpy: {error:.3e} (allowed {allowed:.3e}): {'OK' if ok else 'FAILED'}")
            summary.append((name, kernel_ns, error, ok))
            if not ok:
                failures.append(f"filter {name}: max abs error {error:.3e} exceeds {allowed:.3e} "
                                f"(tolerance {tolerance:g} x image range {value_range:.6g})")

        say(f"Step 12: release everything ({len(owned)} objects: buffers, kernel, programs, queue, context)")
        stack.close()
    say("Summary:")
    say(f"  build {_ms(build_s)}")
    for name, kernel_ns, error, ok in summary:
        say(f"  {name:<14} kernel {_ns_ms(kernel_ns):>12}   max abs error {error:.3e}  {'OK' if ok else 'FAILED'}")
    if failures:
        for text in failures:
            print(f"opencl_raw demo: FAILED: {text}", file=sys.stderr)
        return EXIT_FAILURE
    say(f"All {len(summary)} results match the numpy reference.")
    return EXIT_OK


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #

def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="opencl_raw command line: list OpenCL devices or run the 12-step demo.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--icd", metavar="PATH",
                        help="use only this OpenCL driver (a library, an .icd file or a folder of them) "
                             "through built-in dispatch: sets OPENCL_RAW_BACKEND=icd and OPENCL_RAW_ICDS=PATH")
    sub = parser.add_subparsers(dest="command", metavar="{list,info,demo}")
    sub.add_parser("list", help="list platforms and devices like 'clinfo -l' (the default)")
    info = sub.add_parser(
        "info", help="every info param of every platform and device, like 'clinfo'",
        description="Print every platform and device param of the info table, and the work-group values "
                    "of a small kernel built per device. A failing query shows its CL error on its line.")
    info.add_argument("--platform", help="only this platform: index or name substring (default: all)")
    info.add_argument("--device", help="only this device: index or name substring (default: all)")
    form = info.add_mutually_exclusive_group()
    form.add_argument("--raw", dest="form", action="store_const", const="raw",
                      help="one line per param in the notation of 'clinfo --raw'")
    form.add_argument("--json", dest="form", action="store_const", const="json", help="JSON")
    demo = sub.add_parser(
        "demo", help="run a 2-D convolution through the 12 steps of an OpenCL program",
        description="Run the conv2d kernel through the 12 steps of an OpenCL host program and compare "
                    "each result with numpy. Exit code 1 when an error exceeds the tolerance.")
    demo.add_argument("--platform", help="platform index or name substring (default: $OPENCL_RAW_PLATFORM or 0)")
    demo.add_argument("--device", help="device index or name substring (default: $OPENCL_RAW_DEVICE or 0)")
    demo.add_argument("--image", metavar="PATH",
                      help="input image: .npy, .pgm (binary P5, 8/16-bit) or .png (needs Pillow); "
                           f"default: a generated {DEFAULT_SIZE}x{DEFAULT_SIZE} test picture")
    demo.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                      help="allowed max abs error as a fraction of the image's value range "
                           f"(default {DEFAULT_TOLERANCE:g}; negative always fails)")
    return parser


def _version() -> str:
    from . import __version__
    return __version__


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line and return its exit code (0 ok, 1 failure, 2 usage or environment error).

    Args:
        argv: the arguments without the program name; None uses ``sys.argv[1:]``.
    """
    from .errors import CLError, FunctionUnavailableError, LibraryNotFoundError
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    prog = "python -m opencl_raw" if argv0 in ("", "__main__.py", "-c", "-m") else argv0
    args = _parser(prog).parse_args(argv)
    if args.icd:  # before anything is loaded
        os.environ["OPENCL_RAW_BACKEND"] = "icd"
        os.environ["OPENCL_RAW_ICDS"] = args.icd
    try:
        from . import raw
        raw.backend_name()  # no library or driver is an environment error (exit 2), whatever the first call is
        if args.command == "demo":
            return run_demo(args.platform, args.device, args.image, args.tolerance)
        if args.command == "info":
            from ._info_tool import run_info
            try:
                return run_info(args.platform, args.device, args.form or "human")
            except LookupError as exc:
                raise UsageError(str(exc)) from None
        return list_devices()
    except (UsageError, LibraryNotFoundError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CLError, FunctionUnavailableError) as exc:
        print(f"{prog}: OpenCL error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `python -m opencl_raw | head -1`: stop quietly.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
