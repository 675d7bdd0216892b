"""SSIMULACRA2, vectorised: the perceptual score libjxl's ``ssimulacra2`` tool
gives a distorted image against its reference (100: identical; about 70:
"high quality"; docs/quality.md).

The computation of the ``ssimulacra2`` package (its weights and constants,
from libjxl), in float32, with two differences that bring it to libjxl's
tool: the images are not transposed (the package's conversion to XYB
transposes them), and the blur is zero beyond every border, as libjxl's
recursive Gaussian is. On the reference pairs it reads 0.04 to 0.40 points
above the tool, where the package reads 0.3 to 3.2 below it
(tests/test_ssimulacra2.py), in about half the time. It needs numpy and
scipy, which the test group installs: the workflow does not score yet;
benchmarks/auto_quality.py --metric vectorised uses it (issue 24's
`quality: auto` is to).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

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


def linear_rgb(im: Image.Image, background: float = 0.5) -> np.ndarray:
    """An image's pixels in linear light, float32, height x width x 3; alpha
    blended onto a grey of ``background`` (0 to 1, in sRGB values)."""
    rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255
    rgb, alpha = rgba[..., :3], rgba[..., 3:]
    rgb = rgb * alpha + background * (1 - alpha)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def positive_xyb(linear: np.ndarray) -> np.ndarray:
    """libjxl's XYB of linear RGB, shifted to be positive as SSIMULACRA2 does."""
    mixed = np.cbrt(np.maximum(linear @ OPSIN.T + BIAS, 0)) - CBRT_BIAS
    x = 0.5 * (mixed[..., 0] - mixed[..., 1])
    y = 0.5 * (mixed[..., 0] + mixed[..., 1])
    return np.stack([x * 14 + 0.42, y + 0.01, mixed[..., 2] - y + 0.55], axis=-1)


def downsample(linear: np.ndarray) -> np.ndarray:
    """Halve both sides, each pixel the mean of a 2x2 box; an odd last row or
    column is averaged over the pixels it has."""
    h, w = linear.shape[:2]
    padded = np.pad(linear, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2, 3).mean(axis=(1, 3))


def blur(image: np.ndarray) -> np.ndarray:
    """Gaussian of sigma 1.5 over height and width, zero beyond the image
    (libjxl blurs with a recursive Gaussian whose borders are zero)."""
    out = ndimage.gaussian_filter1d(image, SIGMA, axis=0, truncate=3.33, mode="constant")
    return ndimage.gaussian_filter1d(out, SIGMA, axis=1, truncate=3.33, mode="constant")


def norms(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: the mean (L1) and the L4 norm of a height x width x 3 map."""
    squared = values * values
    return values.mean(axis=(0, 1), dtype=np.float64), (squared * squared).mean(axis=(0, 1), dtype=np.float64) ** 0.25


def scale_components(img1: np.ndarray, img2: np.ndarray) -> np.ndarray:
    """3 x 6 components of one scale: per channel, the SSIM, ringing and
    blurring maps' L1 and L4 norms, in libjxl's order."""
    mu1, mu2 = blur(img1), blur(img2)
    s11, s22, s12 = blur(img1 * img1), blur(img2 * img2), blur(img1 * img2)
    num_m = 1 - (mu1 - mu2) ** 2
    num_s = 2 * (s12 - mu1 * mu2) + C2
    denom_s = (s11 - mu1 * mu1) + (s22 - mu2 * mu2) + C2
    ssim = np.maximum(1 - num_m * num_s / denom_s, 0)
    ratio = (1 + np.abs(img2 - mu2)) / (1 + np.abs(img1 - mu1)) - 1
    parts = [norms(ssim), norms(np.maximum(ratio, 0)), norms(np.maximum(-ratio, 0))]
    # Per channel: ssim L1, ringing L1, blurring L1, ssim L4, ringing L4, blurring L4.
    return np.stack([parts[0][0], parts[1][0], parts[2][0], parts[0][1], parts[1][1], parts[2][1]], axis=1)


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
    linear1, linear2 = linear_rgb(reference, background), linear_rgb(distorted, background)
    components = []
    for scale in range(SCALES):
        if min(linear1.shape[:2]) < 8:
            break
        if scale:
            linear1, linear2 = downsample(linear1), downsample(linear2)
            if min(linear1.shape[:2]) < 8:
                break
        components.append(scale_components(positive_xyb(linear1), positive_xyb(linear2)))
    return score_from_components(components)
