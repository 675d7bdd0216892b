"""Break each mechanism behind a README promise, one at a time, and check that
its test fails.

    uv run --group test python tests/mutate.py            # every mutation
    uv run --group test python tests/mutate.py lock kill  # the ones whose name contains a word

Each mutation replaces one exact piece of the workflow (a profile line, a param,
the lock, the atomic rename) in a scratch copy of the repository's files, then
runs the test that holds the promise. A mutation its test does not catch is a
promise no test holds. The table it prints is the one in docs/testing.md.
tests/test_mutations.py checks, on every test run, that each piece still exists
exactly once, so the list cannot go stale in silence.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    promise: str
    path: str
    old: str
    new: str
    test: str


MUTATIONS = [
    Mutation(
        "checksum-limit", "touching a source over 1 MB rebuilds nothing", "profiles/default/config.yaml",
        "max-checksum-file-size: 2000000000\n", "",
        "tests/test_workflow_incremental.py::test_touching_a_source_bigger_than_snakemakes_default_checksum_limit_rebuilds_nothing",
    ),
    Mutation(
        "params-trigger", "one format's encoder settings rebuild only that format", "profiles/default/config.yaml",
        "rerun-triggers: [mtime, params, input, code]", "rerun-triggers: [mtime, input, code]",
        "tests/test_workflow_incremental.py::test_changing_one_encoder_setting_rebuilds_only_that_format",
    ),
    Mutation(
        "code-digest", "editing the resize script rebuilds every variant", "rules/resize.smk",
        "        code=RESIZE_CODE,\n", "",
        "tests/test_workflow_incremental.py::test_editing_the_resize_script_rebuilds_every_variant",
    ),
    Mutation(
        "pixel-limit-param", "changing max_pixels reruns only the sources it crosses", "rules/functions/resize.smk",
        '    if size is not None and size[0] * size[1] <= config["max_pixels"]:\n        return 0\n', "",
        "tests/test_workflow_incremental.py::test_max_pixels_crossing_a_source_rebuilds_only_that_source",
    ),
    Mutation(
        "command-line-types", "--config takes numbers and booleans", "rules/common.smk",
        '            config[key] = typed(config[key], schema["properties"].get(key, {}))\n', "            pass\n",
        "tests/test_workflow_cli.py::test_config_on_the_command_line_takes_numbers_and_booleans",
    ),
    Mutation(
        "rerun-incomplete", "kill -9, then a plain rerun completes", "profiles/default/config.yaml",
        "rerun-incomplete: true\n", "",
        "tests/test_workflow_robustness.py::test_kill_9_mid_write_then_a_plain_rerun_completes",
    ),
    Mutation(
        "snakemake-lock", "kill -9, then a plain rerun completes", "profiles/default/config.yaml",
        "nolock: true\n", "",
        "tests/test_workflow_robustness.py::test_kill_9_mid_write_then_a_plain_rerun_completes",
    ),
    Mutation(
        "atomic-rename", "a file is complete or absent", "scripts/imageops.py",
        "    tmp_path = partial_path(path)\n", "    tmp_path = path\n",
        "tests/test_workflow_robustness.py::test_kill_9_mid_write_then_a_plain_rerun_completes",
    ),
    Mutation(
        "stale-part-cleanup", "a rerun removes a killed run's .part files", "rules/housekeeping.smk",
        '        "cache/*/.*.part",\n', "",
        "tests/test_workflow_robustness.py::test_kill_9_mid_write_then_a_plain_rerun_completes",
    ),
    Mutation(
        "killed-run-temp", "a rerun removes a killed run's temporary folder", "rules/summary.smk",
        "    remove_temp_folder_of_killed_run()\n", "",
        "tests/test_workflow_robustness.py::test_kill_9_mid_write_then_a_plain_rerun_completes",
    ),
    Mutation(
        "decoder-allow-list", "no decoder outside source_formats sees a source", "scripts/imageops.py",
        "    readers = tuple(dict.fromkeys(", '    allowed = (*allowed, "EPS", "PSD")\n    readers = tuple(dict.fromkeys(',
        "tests/test_workflow_robustness.py::test_other_formats_under_image_names_are_refused_unopened",
    ),
    Mutation(
        "tiff-orientation", "a TIFF's own Orientation tag gives the upright size", "scripts/imageops.py",
        "    if isinstance(im, TiffImagePlugin.TiffImageFile):\n        return 1\n", "",
        "tests/test_workflow_robustness.py::test_tiffs_with_their_own_orientation_tag_build_upright",
    ),
    Mutation(
        "tiff-mmap", "an uncompressed TIFF turned 5-8 keeps its pixels", "scripts/imageops.py",
        "    if mapped_tiff_would_scramble(im):", "    if False:",
        "tests/test_imageops.py::test_planning_and_decoding_agree_on_the_upright_image",
    ),
    Mutation(
        "run-lock", "a second run in the same folder is refused", "rules/housekeeping.smk",
        "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)", "fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)",
        "tests/test_workflow_robustness.py::test_a_second_run_in_the_same_folder_is_refused",
    ),
    Mutation(
        "keep-going", "one bad image does not stop the others", "profiles/default/config.yaml",
        "keep-going: true\n", "",
        "tests/test_workflow_robustness.py::test_a_decoder_that_crashes_fails_only_its_source",
    ),
    Mutation(
        "crash-line", "a crashing decoder is named", "rules/resize.smk",
        "if [ $status -gt 128 ]; then", "if [ $status -gt 999 ]; then",
        "tests/test_workflow_robustness.py::test_a_decoder_that_crashes_fails_only_its_source",
    ),
    Mutation(
        "max-pixels-check", "a source above max_pixels is refused, naming the limit", "scripts/decode_source.py",
        "if max_pixels is not None and im.width * im.height > max_pixels:", "if False:",
        "tests/test_workflow_robustness.py::test_a_source_above_max_pixels_is_refused_before_decoding",
    ),
    Mutation(
        "quoting", "awkward file names build", "rules/resize.smk",
        '"python {params.script:q} {input.source:q} {output.levels:q}"', '"python {params.script:q} {input.source} {output.levels:q}"',
        "tests/test_workflow_robustness.py::test_awkward_file_names_build",
    ),
    Mutation(
        "exif-orientation", "names use the upright size", "scripts/imageops.py",
        "    method = _UPRIGHT.get(orientation(im))\n", "    method = None\n",
        "tests/test_workflow_robustness.py::test_exif_orientation_sets_the_target_names",
    ),
    Mutation(
        "icc-to-srgb", "embedded ICC profiles are converted to sRGB", "scripts/imageops.py",
        "    im = _to_srgb(im)\n", "",
        "tests/test_workflow_robustness.py::test_icc_profile_is_converted_to_srgb",
    ),
    Mutation(
        "sixteen-bit", "16-bit sources keep their values in 8 bits", "scripts/imageops.py",
        "scale = 1 / 256 if sixteen_bit else 1", "scale = 1 / 257 if sixteen_bit else 1",
        "tests/test_workflow_robustness.py::test_a_full_width_png_variant_has_the_sources_pixels_in_8_bits",
    ),
    Mutation(
        "palette", "palette sources keep their colours", "scripts/imageops.py",
        '        return im.convert("RGBA" if has_alpha else "RGB")\n', '        return im.convert("L").convert("RGB")\n',
        "tests/test_workflow_robustness.py::test_a_full_width_png_variant_has_the_sources_pixels_in_8_bits",
    ),
    Mutation(
        "lanczos", "targets are resampled with Lanczos", "scripts/imageops.py",
        "return im.resize((width, height), Image.Resampling.LANCZOS, box=box)",
        "return im.resize((width, height), Image.Resampling.BICUBIC, box=box)",
        "tests/test_imageops.py::test_resize_raster_is_lanczos_on_detailed_content",
    ),
    Mutation(
        "avif-budget", "an encoder with threads of its own gets the job's budget", "scripts/imageops.py",
        '        pillow_options.setdefault("max_threads", threads)\n', "        pass\n",
        "tests/test_imageops.py::test_an_avif_encode_runs_no_more_threads_than_its_job_s_budget",
    ),
    Mutation(
        "background-param", "changing background rebuilds only the jpeg targets", "rules/functions/resize.smk",
        '    return "none" if FORMATS[fmt].alpha else config["background"]\n', '    return config["background"]\n',
        "tests/test_workflow_incremental.py::test_changing_the_jpeg_background_rebuilds_nothing_else",
    ),
    Mutation(
        "write-error-cleanup", "a failed write leaves no temporary file", "scripts/imageops.py",
        "        tmp_path.unlink(missing_ok=True)\n", "        pass\n",
        "tests/test_workflow_robustness.py::test_a_full_disk_fails_cleanly_with_one_line",
    ),
    Mutation(
        "download-body-cap", "a body above max_bytes fails, with or without Content-Length", "scripts/download.py",
        "                if received > max_bytes:\n", "                if False:\n",
        "tests/test_downloads.py::test_download_fails_cleanly",
    ),
    Mutation(
        "bucket-size-cache", "a rerun on a bucket reads only new or changed objects", "scripts/bucket.py",
        "        if entry is not None and entry[0] == etag:\n", "        if False:\n",
        "tests/test_storage_s3.py::test_a_rerun_takes_sizes_from_the_cache_by_etag_and_reads_only_changed_objects",
    ),
    Mutation(
        "doubling-backoff", "each retry waits twice as long", "scripts/download.py",
        "time.sleep(backoff * 2**attempt)", "time.sleep(backoff)",
        "tests/test_downloads.py::test_each_retry_waits_twice_as_long_as_the_one_before",
    ),
    Mutation(
        "recorded-version", "an unreachable server keeps the recorded version", "rules/functions/download.smk",
        '        return origin.version if origin is not None and origin.url == url else ""\n', '        return ""\n',
        "tests/test_downloads.py::test_an_unreachable_server_keeps_the_recorded_version",
    ),
    Mutation(
        "shared-image-copy", "a resample shared between jobs encodes with each job's own settings",
        "scripts/imageops.py",
        "    return im.copy() if ready is im else ready\n", "    return ready\n",
        "tests/test_imageops.py::test_save_image_keeps_its_settings_when_another_job_saves_the_same_image",
    ),
    Mutation(
        "near-duplicate-width", "min_width_step drops a width too close to the source's own", "scripts/plan.py",
        " and source_width >= width * min_width_step", "",
        "tests/test_workflow_incremental.py::test_min_width_step_drops_a_near_duplicate_width_and_keeping_it_builds_only_it",
    ),
    Mutation(
        "versioned-urls", "versioned URLs change exactly when a variant's bytes do", "scripts/web.py",
        'version = sha256_of(path)[:URL_VERSION_DIGITS] if versioned else ""', 'version = ""',
        "tests/test_workflow_web.py::test_versioned_urls_change_exactly_when_a_variants_bytes_do",
    ),
    Mutation(
        "placeholder-style", "an opaque image's box shows its placeholder until it loads", "scripts/web.py",
        "    if not record.opaque or not record.color:\n", "    if True:\n",
        "tests/test_workflow_web.py::test_opaque_sources_get_a_placeholder_behind_their_image_and_transparent_ones_do_not",
    ),
    Mutation(
        "partition-filter", "a partition's run builds only its own sources", "rules/common.smk",
        "    return PARTITION is None or partition_of(stem, PARTITIONS) == PARTITION\n", "    return True\n",
        "tests/test_workflow_partitions.py::test_a_partitioned_run_makes_the_same_files_as_one_dag",
    ),
    Mutation(
        "partition-restore", "a deleted variant is restored by a partitioned run", "rules/partitions.smk",
        "        missing=missing_in_partition,\n", "",
        "tests/test_workflow_partitions.py::test_a_deleted_variant_is_restored",
    ),
    Mutation(
        "auto-target", "changing auto_quality.target reruns only the auto formats, at the new target", "rules/functions/resize.smk",
        '        "target": config["auto_quality"]["target"],\n', '        "target": 70,\n',
        "tests/test_workflow_quality.py::test_changing_the_target_reruns_only_the_auto_format",
    ),
    Mutation(
        "auto-lowest", "an auto variant gets the lowest quality that reaches the target", "scripts/auto_quality.py",
        "        if best - below <= 1:\n            return best\n", "        if best - below <= 4:\n            return best\n",
        "tests/test_auto_quality.py::test_search_quality_gives_the_lowest_quality_that_reaches_the_target",
    ),
    Mutation(
        "auto-small-tiled", "a small auto variant is scored mirror-tiled, as its recorded score says", "scripts/auto_quality.py",
        "    tiled = min(ready.size) < FULL_SCALES_SIDE\n", "    tiled = False\n",
        "tests/test_workflow_quality.py::test_auto_variants_reach_the_target_and_say_so",
    ),
    Mutation(
        "auto-exact", "a JPEG that 4:2:0 chroma keeps from the target is encoded in full chroma", "scripts/formats.py",
        ', exact=(("subsampling", 0),)', "",
        "tests/test_workflow_quality.py::test_a_jpeg_out_of_reach_of_its_chroma_is_encoded_in_full_chroma",
    ),
]


def repository_files() -> list[str]:
    """The repository's files as they are in the work tree (edits included)."""
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in done.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def apply(mutation: Mutation, root: Path) -> None:
    path = root / mutation.path
    text = path.read_text()
    if text.count(mutation.old) != 1:
        msg = f"{mutation.name}: {mutation.path} holds {text.count(mutation.old)} copies of the piece to replace, not 1"
        raise ValueError(msg)
    path.write_text(text.replace(mutation.old, mutation.new))


def run(mutation: Mutation) -> tuple[str, float]:
    """'caught', 'MISSED' or 'error' for one mutation, and the seconds it took."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutation.name}-") as scratch:
        root = Path(scratch)
        for name in repository_files():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes((ROOT / name).read_bytes())
        apply(mutation, root)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", mutation.test],
            cwd=root, capture_output=True, text=True,
        )
    # pytest: 1 = tests failed (the mutation is caught), 0 = all passed.
    verdict = {0: "MISSED", 1: "caught"}.get(done.returncode, "error")
    if verdict == "error":
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return verdict, time.monotonic() - started


def main(words: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not words or any(word in m.name for word in words)]
    print("| mutation | promise | broken piece | test | result |")
    print("|---|---|---|---|---|")
    missed = 0
    for mutation in chosen:
        verdict, seconds = run(mutation)
        missed += verdict != "caught"
        test = mutation.test.split("::")[1]
        print(f"| `{mutation.name}` | {mutation.promise} | `{mutation.path}` | `{test}` | {verdict} ({seconds:.0f} s) |", flush=True)
    print(f"\n{len(chosen) - missed} of {len(chosen)} mutations caught.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
