"""SSIMULACRA2, vectorised: the perceptual score libjxl's ``ssimulacra2`` tool
gives a distorted image against its reference (100: identical; about 70:
"high quality"; docs/quality.md).

The computation of the ``ssimulacra2`` package (its weights and constants,
from libjxl), in float32, with two differences that bring it to libjxl's
tool: the images are not transposed (the package's conversion to XYB
transposes them), and the blur is zero beyond every border, as libjxl's
recursive Gaussian is. On the reference pairs it reads 0.04 to 0.40 points
above the tool, where the package reads 0.3 to 3.2 below it
(tests/test_ssimulacra2.py). A :class:`Reference` is prepared once for
the several scores of a quality search (scripts/auto_quality.py), and a
large image is scored in bands of rows: a 1928 px score takes 0.21 s, where
the package takes 3.8 s, a 4000 px one 1.1 s (docs/quality.md).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageOps
from threadpoolctl import threadpool_limits

# A job is one thread (rules/resize.smk): OpenCV's and BLAS's own thread
# pools would take the other cores from the jobs running beside it. BLAS's
# (the sums below, XYB's matrix) busy-waits: with it, a score of a 4000 px
# variant took 2.4 CPU-s for 1.3 s of wall time, alone on 2 cores, and
# 1.2 CPU-s on one BLAS thread (docs/quality.md).
cv2.setNumThreads(1)
threadpool_limits(limits=1, user_api="blas")

#: The weights of the 108 components (3 channels x 6 scales x (SSIM, ringing,
#: blurring) x (L1, L4 norm)), from libjxl's tools/ssimulacra2.cc.
WEIGHTS = np.array([
    0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379, 0.0,
    1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754, 0.0,
    1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653, 0.0,
    1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833, 0.0,
    0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063, 0.0, 0.0,
    0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
    0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296, 1.027889937768264,
    225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
    176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0, 0.0,
    0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0008680556573291698, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747, 0.0, 0.00016533814161379112,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0004179171803251336, 0.0017290828234722833, 0.0, 0.0020827005846636437,
    0.0, 0.0, 8.826982764996862, 23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682,
    0.9834382792465353, 0.0012286405048278493, 171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0,
    0.0005130064588990679, 0.0, 0.00010854057858411537,
])  # fmt: skip
SCALES = 6
C2 = 0.0009
SIGMA = 1.5
#: libjxl's opsin absorbance matrix and bias (lib/jxl/opsin_params.h).
OPSIN = np.array(
    [[0.30, 0.622, 0.078], [0.23, 0.692, 0.078], [0.24342268924547819, 0.20476744424496821, 0.5518098665095536]],
    dtype=np.float32,
)
BIAS = np.float32(0.0037930732552754493)
CBRT_BIAS = np.cbrt(BIAS)


#: sRGB's transfer function, from each 8-bit value to linear light.
_SRGB = np.arange(256, dtype=np.float64) / 255
LINEAR = np.where(_SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_rgb(im: Image.Image, background: float = 0.5) -> np.ndarray:
    """An image's pixels in linear light, float32, 3 x height x width (one
    plane a channel, so that each channel's sums run over contiguous memory);
    alpha blended onto a grey of ``background`` (0 to 1, in sRGB values)."""
    if im.mode == "RGB":
        return LINEAR[np.asarray(im).transpose(2, 0, 1)]
    rgba = np.asarray(im.convert("RGBA"), dtype=np.float32).transpose(2, 0, 1) / 255
    rgb, alpha = rgba[:3], rgba[3:]
    rgb = rgb * alpha + background * (1 - alpha)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def positive_xyb(linear: np.ndarray) -> np.ndarray:
    """libjxl's XYB of linear RGB, shifted to be positive as SSIMULACRA2 does."""
    mixed = np.tensordot(OPSIN, linear, axes=1)
    mixed += BIAS
    np.maximum(mixed, 0, out=mixed)
    mixed = np.cbrt(mixed, out=mixed) - CBRT_BIAS
    x = 0.5 * (mixed[0] - mixed[1])
    y = 0.5 * (mixed[0] + mixed[1])
    return np.stack([x * 14 + 0.42, y + 0.01, mixed[2] - y + 0.55])


def downsample(linear: np.ndarray) -> np.ndarray:
    """Halve both sides, each pixel the mean of a 2x2 box; an odd last row or
    column is averaged over the pixels it has."""
    h, w = linear.shape[1:]
    padded = np.pad(linear, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge") if h % 2 or w % 2 else linear
    total = padded[:, 0::2, 0::2] + padded[:, 1::2, 0::2]
    total += padded[:, 0::2, 1::2]
    total += padded[:, 1::2, 1::2]
    total *= 0.25
    return total


#: The blur's kernel: a Gaussian of sigma 1.5 truncated at 3.33 sigma (5
#: pixels each side), normalised, as scipy.ndimage.gaussian_filter1d builds it.
_TAPS = np.arange(-5, 6, dtype=np.float64)
KERNEL = np.exp(-0.5 * (_TAPS / SIGMA) ** 2)
KERNEL = (KERNEL / KERNEL.sum()).astype(np.float32)


def blur(image: np.ndarray) -> np.ndarray:
    """Gaussian of sigma 1.5 over height and width of each plane, zero beyond
    the image (libjxl blurs with a recursive Gaussian whose borders are zero).
    OpenCV's separable filter: five times as fast as scipy's, the same values
    to 2e-7."""
    return np.stack([cv2.sepFilter2D(plane, -1, KERNEL, KERNEL, borderType=cv2.BORDER_CONSTANT) for plane in image])


def sums(values: np.ndarray) -> np.ndarray:
    """Per channel: the sum and the sum of fourth powers of a 3 x rows x width
    map (a band), as products with a vector of ones (BLAS, float32: exact
    enough over one band; the bands' totals are added in float64)."""
    flat = values.reshape(3, -1)
    squared = flat * flat
    squared *= squared
    ones = np.ones(flat.shape[1], dtype=np.float32)
    return np.stack([flat @ ones, squared @ ones]).astype(np.float64)


#: Rows of a scale scored at a time, and the rows read either side of them:
#: the blur reaches 5 rows. Bands keep a large image's temporaries small: a
#: 4000 px score takes half the time.
BAND, HALO = 128, 8


def bands(height: int) -> list[tuple[int, int, int, int]]:
    """(top, bottom, first, last) of each band of rows: the rows scored, and
    the rows read for them."""
    return [
        (top, min(height, top + BAND), max(0, top - HALO), min(height, top + BAND + HALO))
        for top in range(0, height, BAND)
    ]


class _Scale:
    """One scale of a reference: its positive XYB, blurred, and its blurred
    variance, which every score against it reuses."""

    def __init__(self, linear: np.ndarray):
        self.xyb = np.empty_like(linear)
        for top, bottom, _, _ in bands(linear.shape[1]):
            self.xyb[:, top:bottom] = positive_xyb(linear[:, top:bottom])
        self.mu, self.variance = np.empty_like(self.xyb), np.empty_like(self.xyb)
        for top, bottom, first, last in bands(linear.shape[1]):
            xyb = self.xyb[:, first:last]
            rows = slice(top - first, bottom - first)
            mu = blur(xyb)[:, rows]
            self.mu[:, top:bottom] = mu
            self.variance[:, top:bottom] = blur(xyb * xyb)[:, rows] - mu * mu

    def components(self, linear: np.ndarray) -> np.ndarray:
        """3 x 6 components of this scale against ``linear``, the distorted
        image's linear RGB at this scale: per channel, the SSIM, ringing and
        blurring maps' L1 and L4 norms, in libjxl's order.

        Computed in bands of rows, each read with the rows its blur reaches,
        and zero beyond the image as a whole: the same values as at once."""
        totals = np.zeros((3, 2, 3))  # map (ssim, ringing, blurring) x (sum, sum of 4th powers) x channel
        for top, bottom, first, last in bands(linear.shape[1]):
            xyb = positive_xyb(linear[:, first:last])
            rows = slice(top - first, bottom - first)
            reference = self.xyb[:, first:last]
            mu2, s22, s12 = blur(xyb)[:, rows], blur(xyb * xyb)[:, rows], blur(reference * xyb)[:, rows]
            xyb, reference = xyb[:, rows], reference[:, rows]
            mu1, variance = self.mu[:, top:bottom], self.variance[:, top:bottom]
            # In place, on few temporaries: ssim = max(1 - num_m * num_s / denom_s, 0)
            # with num_m = 1 - (mu1 - mu2)^2, num_s = 2 (s12 - mu1 mu2) + C2,
            # denom_s = variance + s22 - mu2^2 + C2.
            num_m = mu1 - mu2
            num_m *= num_m
            np.subtract(1, num_m, out=num_m)
            num_s = mu1 * mu2
            np.subtract(s12, num_s, out=num_s)
            num_s *= 2
            num_s += C2
            s22 -= mu2 * mu2
            s22 += variance
            s22 += C2
            num_m *= num_s
            num_m /= s22
            np.subtract(1, num_m, out=num_m)
            totals[0] += sums(np.maximum(num_m, 0, out=num_m))
            # ratio = (1 + |xyb - mu2|) / (1 + |reference - mu1|) - 1: ringing
            # where it is above 0, blurring where below.
            ratio = np.abs(xyb - mu2)
            ratio += 1
            below = np.abs(reference - mu1)
            below += 1
            ratio /= below
            ratio -= 1
            np.negative(ratio, out=below)
            totals[1] += sums(np.maximum(ratio, 0, out=ratio))
            totals[2] += sums(np.maximum(below, 0, out=below))
        count = linear.shape[1] * linear.shape[2]
        l1, l4 = totals[:, 0] / count, (totals[:, 1] / count) ** 0.25
        # Per channel: ssim L1, ringing L1, blurring L1, ssim L4, ringing L4, blurring L4.
        return np.concatenate([l1, l4]).T


def linear_scales(linear: np.ndarray) -> list[np.ndarray]:
    """The linear RGB of each scale: halved each time, and left out from the
    first under 8 pixels a side, as libjxl does."""
    found = []
    for scale in range(SCALES):
        if scale:
            linear = downsample(linear)
        if min(linear.shape[1:]) < 8:
            break
        found.append(linear)
    return found


class Reference:
    """A reference image, prepared once for scoring many distorted images of
    its size against it (a quality search scores several)."""

    def __init__(self, image: Image.Image, background: float = 0.5):
        self.size = image.size
        self.background = background
        self.scales = [_Scale(linear) for linear in linear_scales(linear_rgb(image, background))]

    def score(self, distorted: Image.Image) -> float:
        """The SSIMULACRA2 score of ``distorted`` against this reference."""
        if distorted.size != self.size:
            msg = f"the images differ in size: {self.size} and {distorted.size}"
            raise ValueError(msg)
        found = linear_scales(linear_rgb(distorted, self.background))
        return score_from_components([scale.components(linear) for scale, linear in zip(self.scales, found)])


#: The side under which an image loses a scale: 8 px at the 6th scale, 1/32.
FULL_SCALES_SIDE = 8 * 2 ** (SCALES - 1)


def mirror_tiled(im: Image.Image, side: int = FULL_SCALES_SIDE) -> Image.Image:
    """``im`` extended by mirrored copies of itself until both sides reach
    ``side`` (256 px, where all six scales are there): an image smaller than
    that is scored so, since the metric is erratic without its coarse scales
    (docs/quality.md). Every pixel keeps its neighbourhood."""
    while im.width < side or im.height < side:
        wide = im.width < side
        tiled = Image.new(im.mode, (im.width * (2 if wide else 1), im.height * (1 if wide else 2)))
        tiled.paste(im, (0, 0))
        mirrored = ImageOps.mirror(im) if wide else ImageOps.flip(im)
        tiled.paste(mirrored, (im.width, 0) if wide else (0, im.height))
        im = tiled
    return im


def score_from_components(components: list[np.ndarray]) -> float:
    """The weighted sum of the components of every scale, mapped to the score."""
    values = np.zeros((3, SCALES, 6))
    for scale, found in enumerate(components):
        values[:, scale, :] = found
    total = float(np.abs(values).reshape(-1) @ WEIGHTS) * 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return 100.0 - 10.0 * total**0.6276336467831387 if total > 0 else 100.0


def ssimulacra2(reference: Image.Image, distorted: Image.Image, background: float = 0.5) -> float:
    """The SSIMULACRA2 score of ``distorted`` against ``reference`` (same size).
    Scales whose image is under 8 pixels a side are left out, as libjxl does."""
    if reference.size != distorted.size:
        msg = f"the images differ in size: {reference.size} and {distorted.size}"
        raise ValueError(msg)
    return Reference(reference, background).score(distorted)
