# Input functions and job bodies of rules/orphans.smk.
from scripts.plan import orphaned_outputs
from scripts.remove_files import remove_files


def orphans():
    """Variants in the output folder that the current sources and config no longer make."""
    expected = [OUTPUT_DIR / target.name for target in planned_targets()]
    for stem in url_stems():
        expected += [OUTPUT_DIR / target.name for target in url_source_targets(stem)]
    return [path.name for path in orphaned_outputs(OUTPUT_DIR, expected)]


def orphan_paths(wildcards):
    """Orphaned variants, plus the cached files and snippets of sources that are gone."""
    gone = [
        folder
        for folder in sorted(CACHE_DIR.glob("*"))
        if folder.is_dir() and folder.name not in sources()
    ]
    cached = [path for folder in gone for path in sorted(folder.iterdir())]
    snippets = [
        path
        for path in sorted((OUTPUT_DIR / "html").glob("*.html"))
        if path.stem not in described_stems()
    ]
    return [str(OUTPUT_DIR / name) for name in orphans()] + [
        str(path) for path in cached + snippets
    ]


def remove_orphans_job(params, log):
    """Delete the orphans and say which files went."""
    removed = remove_files([Path(path) for path in params.paths])
    lines = [f"removed {path}" for path in removed] or ["nothing to remove"]
    say(lines)
    Path(log[0]).write_text("".join(f"{line}\n" for line in lines))
