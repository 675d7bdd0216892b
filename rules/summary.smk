# The summary printed at the start and at the end of every run (scripts/summary.py).
from snakemake_interface_executor_plugins.settings import ExecMode

RUN_STARTED = time.monotonic()
ORPHAN_HINT = "snakemake --cores 1 remove_orphans"


def say(lines):
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def jobs_of(jobs, *rule_names):
    return [job for job in jobs if job.rule.name in rule_names]


def orphans():
    """Variants in the output folder that the current sources and config no longer make."""
    expected = [OUTPUT_DIR / target.name for target in planned_targets()]
    return [path.name for path in orphaned_outputs(OUTPUT_DIR, expected)]


def orphan_paths(wildcards):
    return [str(OUTPUT_DIR / name) for name in orphans()]


def print_start_summary():
    print_start_summary.done = True
    pending = list(workflow.dag.needrun_jobs(exclude_finished=False))
    say(
        start_lines(
            cores=workflow.cores,
            input_dir=str(INPUT_DIR),
            sources_found=len(sources()),
            sources_to_process=len(
                unique_in_order(
                    job.wildcards.stem
                    for job in jobs_of(pending, "decode_source", "resize_image")
                )
            ),
            targets_to_build=len(jobs_of(pending, "resize_image")),
            dry_run=workflow.dryrun,
        )
    )


def print_end_summary():
    scheduler = getattr(workflow, "scheduler", None)
    failed = jobs_of(getattr(scheduler, "failed", ()), "decode_source", "resize_image")
    say(
        end_lines(
            elapsed=time.monotonic() - RUN_STARTED,
            built=len(jobs_of(workflow.dag.finished_jobs, "resize_image")),
            failed_sources=unique_in_order(
                str(sources().get(job.wildcards.stem, job.wildcards.stem))
                for job in failed
            ),
            orphans=orphans(),
            orphan_hint=ORPHAN_HINT,
        )
    )


def print_summary_at_exit():
    """Runs with nothing to build, and dry runs, never reach onstart."""
    if workflow.dag is None or getattr(print_start_summary, "done", False):
        return
    print_start_summary()
    if not workflow.dryrun:
        print_end_summary()


if workflow.exec_mode == ExecMode.DEFAULT:
    atexit.register(print_summary_at_exit)


onstart:
    print_start_summary()


onsuccess:
    print_end_summary()


onerror:
    print_end_summary()


rule remove_orphans:
    """Delete variants that no source or setting makes any more (explicit only)."""
    log:
        LOG_DIR / "remove_orphans.log",
    params:
        paths=orphan_paths,
    shell:
        "{PYTHON:q} {SCRIPTS_DIR}/remove_files.py {params.paths:q} > {log:q}"
