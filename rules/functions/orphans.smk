# Input functions and job bodies of rules/orphans.smk.
from scripts.formats import is_variant_name, parse_variant_name
from scripts.plan import orphaned_outputs
from scripts.remove_files import remove_files


def orphans():
    """Variants in the output folder that the current sources and config no
    longer make; in a partition's run, those whose stem is of its partition."""
    expected = [OUTPUT_DIR / target.name for target in planned_targets()]
    for stem in url_stems():
        expected += [OUTPUT_DIR / target.name for target in url_source_targets(stem)]
    return [
        path.name
        for path in orphaned_outputs(OUTPUT_DIR, expected)
        if PARTITION is None
        or (
            is_variant_name(path.name) and in_this_run(parse_variant_name(path.name)[0])
        )
    ]


#: Build-state folders with one file per source, named after its stem.
PER_SOURCE_STATE = (
    (LOG_DIR / "decode_source", ".log"),
    (LOG_DIR / "describe_source", ".log"),
    (LOG_DIR / "picture_snippet", ".log"),
    (BENCHMARK_DIR / "decode_source", ".tsv"),
)


def orphan_paths(wildcards):
    """Orphaned variants and their job logs, plus the snippets and build state
    (cache, logs, benchmarks) of sources that are gone."""
    variants = orphans()
    stems = set(sources())
    gone = [
        folder
        for folder in sorted(CACHE_DIR.glob("*"))
        if folder.is_dir() and folder.name not in stems and in_this_run(folder.name)
    ]
    cached = [path for folder in gone for path in sorted(folder.iterdir())]
    snippets = [
        path
        for path in sorted((OUTPUT_DIR / "html").glob("*.html"))
        if path.stem not in described_stems() and in_this_run(path.stem)
    ]
    state = [
        path
        for folder, suffix in PER_SOURCE_STATE
        for path in sorted(folder.glob(f"*{suffix}"))
        if path.stem not in stems and in_this_run(path.stem)
    ]
    variant_logs = [LOG_DIR / "resize_image" / f"{name}.log" for name in variants]
    return [str(OUTPUT_DIR / name) for name in variants] + [
        str(path) for path in cached + snippets + state + variant_logs
    ]


def remove_orphans_job(params, log):
    """Delete the orphans and say which files went."""
    removed = remove_files([Path(path) for path in params.paths])
    lines = [f"removed {path}" for path in removed] or ["nothing to remove"]
    say(lines)
    Path(log[0]).write_text("".join(f"{line}\n" for line in lines))
