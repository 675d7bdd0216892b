"""The console of a run: the brief logger plugin (plugins/snakemake-logger-plugin-brief)."""

import logging
import re
import signal
import subprocess
import sys
import time

import pytest
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_logger_plugin_brief import Brief, logged_an_error, one_line

from conftest import job_environment, make_image

CONFIG_ERROR = (
    'WorkflowError in file "/w/rules/common.smk", line 50:\n'
    "--config: invalid value for 'widths.0': -5 is less than the minimum of 1\n"
    '  File "/w/rules/common.smk", line 55, in <module>\n'
    '  File "/w/rules/common.smk", line 50, in validate_config'
)
INPUT_FUNCTION_ERROR = (
    'InputFunctionException in rule all in file "/w/Snakefile", line 41:\n'
    "Error:\n  WorkflowError:\n"
    "    a.jpg and a.png have the same stem 'a' and would write the same targets; rename one of them\n"
    "Wildcards:\n\nTraceback:\n"
    '  File "/w/rules/plan.smk", line 81, in all_targets'
)
JOB_EXCEPTION = (
    "RuleException:\n"
    'CalledProcessError in file "/w/rules/resize.smk", line 43:\n'
    "Command 'python scripts/decode_source.py a.jpg' returned non-zero exit status 1."
)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (CONFIG_ERROR, "--config: invalid value for 'widths.0': -5 is less than the minimum of 1"),
        (
            INPUT_FUNCTION_ERROR,
            "a.jpg and a.png have the same stem 'a' and would write the same targets; rename one of them",
        ),
        (JOB_EXCEPTION, "Command 'python scripts/decode_source.py a.jpg' returned non-zero exit status 1."),
        ("WorkflowError:\nAt least one job did not complete successfully.", "At least one job did not complete successfully."),
        ("a plain message", "a plain message"),
    ],
)
def test_one_line_keeps_the_message_of_snakemake_exceptions(message, line):
    assert one_line(message) == line


def record(message="", level=logging.INFO, **extra) -> logging.LogRecord:
    made = logging.LogRecord("snakemake", level, __file__, 1, message, None, None)
    made.__dict__.update(extra)
    return made


def progress(done, total):
    return record(event=LogEvent.PROGRESS, done=done, total=total)


def test_progress_is_shown_every_quarter():
    brief = Brief()
    shown = [line for done in range(1, 9) for line in brief.lines(progress(done, 8))]
    assert shown == [f"{n} of 8 steps ({100 * n // 8}%) done" for n in (2, 4, 6, 8)]


def test_progress_on_a_terminal_is_every_step():
    brief = Brief(every_step=True)
    shown = [line for done in range(1, 4) for line in brief.lines(progress(done, 3))]
    assert len(shown) == 3 and shown[-1].complete and not shown[0].complete


@pytest.mark.parametrize("quiet", [{"progress"}, {"all"}])
def test_quiet_progress_hides_progress(quiet):
    assert Brief(quiet=frozenset(quiet)).lines(progress(4, 4)) == []


@pytest.mark.parametrize(
    "event",
    [LogEvent.JOB_INFO, LogEvent.JOB_STARTED, LogEvent.JOB_FINISHED, LogEvent.SHELLCMD, LogEvent.WORKFLOW_STARTED],
)
def test_job_blocks_are_left_out(event):
    assert Brief().lines(record("rule resize_image:", event=event)) == []


@pytest.mark.parametrize("message", ["Building DAG of jobs...", "Provided cores: 2", "Select jobs to execute..."])
def test_snakemake_chatter_is_left_out(message):
    assert Brief().lines(record(message)) == []


def test_other_info_is_shown_as_it_is():
    # The workflow's summary, and the output of --lint, --summary and the like.
    assert Brief().lines(record("Built 6 target(s).")) == ["Built 6 target(s)."]


def test_quiet_all_hides_info_but_not_errors():
    brief = Brief(quiet=frozenset({"all"}))
    assert brief.lines(record("Built 6 target(s).")) == []
    assert brief.lines(record(CONFIG_ERROR, logging.ERROR, event=LogEvent.ERROR)) == []  # held back
    assert brief.close() == ["ERROR --config: invalid value for 'widths.0': -5 is less than the minimum of 1"]


def test_a_dry_runs_job_table_is_shown_once():
    brief = Brief(dry_run=True)
    table = record("Job stats:\njob  count", event=LogEvent.RUN_INFO)
    assert brief.lines(table) == ["Job stats:\njob  count"]
    assert brief.lines(table) == []
    assert Brief().lines(table) == []  # a real run's is left out


def test_an_error_is_held_until_the_next_record_then_shown_as_one_line():
    brief = Brief()
    assert brief.lines(record(INPUT_FUNCTION_ERROR, logging.ERROR, event=LogEvent.ERROR)) == []
    assert brief.lines(record("Built 0 target(s).")) == [
        "ERROR a.jpg and a.png have the same stem 'a' and would write the same targets; rename one of them",
        "Built 0 target(s).",
    ]


def test_a_failed_job_that_printed_its_line_adds_nothing(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("2026-12-02 10:00:00 ERROR input_images/a.jpg: Truncated File Read\n")
    brief = Brief()
    brief.lines(record(JOB_EXCEPTION, logging.ERROR, event=LogEvent.ERROR))
    assert brief.lines(record("Error in rule decode_source", logging.ERROR, event=LogEvent.JOB_ERROR, rule_name="decode_source", log=[str(log)])) == []
    assert brief.lines(record("Exiting because a job execution failed. Look above for error messages", logging.ERROR)) == []
    assert brief.lines(record("Complete log(s): /w/.snakemake/log/x.log")) == ["Complete log(s): /w/.snakemake/log/x.log"]


def test_a_failed_job_that_printed_nothing_gets_one_line(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("2026-12-02 10:00:00 INFO wrote it\n")
    brief = Brief()
    brief.lines(record(JOB_EXCEPTION, logging.ERROR, event=LogEvent.ERROR))
    assert brief.lines(
        record("Error in rule manifest", logging.ERROR, event=LogEvent.JOB_ERROR, rule_name="manifest", log=[str(log)])
    ) == [f"ERROR job manifest failed: Command 'python scripts/decode_source.py a.jpg' returned non-zero exit status 1. (log: {log})"]


def test_without_a_failed_job_the_final_error_is_shown():
    assert Brief().lines(record("At least one job did not complete successfully.", logging.ERROR)) == [
        "ERROR At least one job did not complete successfully."
    ]
    assert Brief().lines(record("Complete log(s): x.log")) == []


def test_after_ctrl_c_the_cut_jobs_say_nothing():
    brief = Brief()
    assert brief.lines(record("Terminating processes on user request, this might take some time.")) == [
        "Stopping on Ctrl-C: the running jobs are cut short."
    ]
    assert brief.lines(record("Error in rule resize_image", logging.ERROR, event=LogEvent.JOB_ERROR, log=[])) == []
    assert brief.lines(record("Complete log(s): x.log")) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [("2026-12-02 10:00:00 ERROR a.jpg: bad\n", True), ("2026-12-02 10:00:00 INFO ERROR in a name\n", False)],
)
def test_logged_an_error_reads_the_jobs_own_line(tmp_path, text, found):
    (tmp_path / "a.log").write_text(text)
    assert logged_an_error([str(tmp_path / "a.log"), str(tmp_path / "missing.log")]) is found


# End to end: the real console of real runs.


def test_a_first_build_prints_a_few_lines(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "beta.png", (48, 64))
    done = workflow.run()
    lines = done.stderr.splitlines()
    assert len(lines) <= 15, done.stderr
    assert "Built 12 target(s)." in lines
    assert lines[lines.index("Built 12 target(s).") - 1].endswith(" steps (100%) done")
    assert not [line for line in lines if re.match(r"(local)?rule |\[|    (input|output):", line)]


def test_the_jobs_flag_prints_snakemakes_job_blocks(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    done = workflow.run("--logger-brief-jobs")
    assert "localrule all:" in done.stderr and "rule decode_source:" in done.stderr
    assert "Built 6 target(s)." in done.stderr


def test_quiet_all_still_shows_a_config_error(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    done = workflow.run("--quiet", "all", "--config", "widths=[0]", check=False)
    assert done.returncode != 0
    assert "ERROR --config: invalid value for 'widths.0': 0 is less than the minimum of 1" in done.stderr.splitlines()


def test_two_sources_with_one_stem_end_with_one_line(workflow):
    make_image(workflow.inputs / "storm.jpg", (64, 48))
    make_image(workflow.inputs / "storm.png", (64, 48))
    done = workflow.run(check=False)
    assert done.returncode != 0
    errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("ERROR")]
    assert errors == [
        "ERROR input_images/storm.jpg and input_images/storm.png have the same stem 'storm'"
        " and would write the same targets; rename one of them"
    ]
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr


def test_a_failed_source_gets_one_line_and_no_job_block(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    (workflow.inputs / "broken.jpg").write_bytes((workflow.inputs / "alpha.jpg").read_bytes()[:300])
    done = workflow.run(check=False)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and errors[0].startswith("ERROR input_images/broken.jpg: "), done.stderr
    assert "Error in rule" not in done.stderr and "RuleException" not in done.stderr
    assert "FAILED: 1 source(s): input_images/broken.jpg" in done.stderr


def test_ctrl_c_stops_with_one_line_and_no_traceback(workflow):
    # Big enough that the build is still running when the signal comes.
    make_image(workflow.inputs / "large.png", (6000, 4000))
    workflow.set_config(widths=[5000, 4000, 3000, 2500, 2000, 1500, 1000, 800, 600, 400], formats=["png", "webp"])
    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2"],
        cwd=workflow.root,
        env=job_environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in run.stderr:
        lines.append(line)
        if line.startswith("Memory: jobs share"):  # onstart is done: jobs are starting
            break
    # Snakemake makes a job's output folder just before it runs the job: once
    # the decode's is there, a job is running (not only about to).
    deadline = time.monotonic() + 120
    while not (workflow.build / "cache" / "large").is_dir():
        assert time.monotonic() < deadline and run.poll() is None, "no job started"
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    lines.extend(run.stderr)
    assert run.wait(timeout=300) != 0
    out = "".join(lines)
    assert "Stopping on Ctrl-C: the running jobs are cut short." in out
    assert re.search(r"^Stopped after building \d+ target\(s\); a rerun builds the rest\.$", out, re.MULTILINE)
    assert "Traceback" not in out and "Error in rule" not in out and "Nothing to build" not in out
    workflow.run()  # a plain rerun completes
    assert len(workflow.outputs()) == 20
