import pytest

from scripts.summary import (
    built_targets,
    describe_mode,
    end_lines,
    error_lines,
    partition_end_lines,
    partition_start_lines,
    start_lines,
    unique_in_order,
    web_file_lines,
)


@pytest.mark.parametrize(("cores", "expected"), [(1, "SEQUENTIAL (1 core)"), (2, "PARALLEL (2 cores)"), (19, "PARALLEL (19 cores)")])
def test_describe_mode(cores, expected):
    assert describe_mode(cores) == expected


def test_start_lines_for_a_dry_run():
    assert start_lines(4, "photos", 6, 2, 44, dry_run=True) == [
        "--- Mode: PARALLEL (4 cores) (dry run) ---",
        "Found 6 source(s) in 'photos'.",
        "-> 2 source(s) to process, 44 target(s) would build.",
    ]


def test_end_lines_with_nothing_to_do():
    assert end_lines(0.5, 0, []) == ["Nothing to build: every target is up to date.", "Done in 0.50 s."]


def test_end_lines_say_other_jobs_ran_when_no_target_was_built():
    assert end_lines(0.5, 0, [], other_jobs=3) == ["No target to build; 3 other job(s) ran.", "Done in 0.50 s."]


def test_end_lines_list_failures_and_at_most_five_orphans():
    orphans = [f"gone_{n}x{n}.png" for n in range(1, 8)]
    lines = end_lines(12.345, 40, ["in/a.jpg", "in/b.png"], orphans, "snakemake --cores 1 remove_orphans")
    assert lines == [
        "Built 40 target(s).",
        "FAILED: 2 source(s): in/a.jpg, in/b.png",
        "7 orphaned output(s) no source or setting makes any more: "
        "gone_1x1.png, gone_2x2.png, gone_3x3.png, gone_4x4.png, gone_5x5.png, ...",
        "   remove them with: snakemake --cores 1 remove_orphans",
        "Done in 12.35 s.",
    ]


def test_unique_in_order():
    assert unique_in_order(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_describe_mode_on_a_cluster():
    assert describe_mode(0, cluster_jobs=50) == "CLUSTER (50 jobs at once)"


def test_end_lines_of_a_stopped_run_say_so():
    assert end_lines(1.0, 3, [], stopped=True)[0] == "Stopped after building 3 target(s); a rerun builds the rest."


@pytest.mark.parametrize(
    ("left_out", "waiting_on", "recovered", "expected"),
    [
        ([], [], [], []),
        (["in/a.jpg"], [], [], ["Web files leave out 1 failed source(s): in/a.jpg"]),
        (
            ["in/a.jpg", "in/b.png"], [], ["in/b.png"],
            ["Web files leave out 2 failed source(s): in/a.jpg, in/b.png",
             "   in/b.png built this time: the next run adds them."],
        ),
        (
            [], ["in/c.gif"], [],
            ["Web files not updated: they wait on in/c.gif; the next run writes them without the sources that fail."],
        ),
    ],
    ids=["none", "left-out", "recovered", "waiting"],
)
def test_web_file_lines(left_out, waiting_on, recovered, expected):
    assert web_file_lines(left_out, waiting_on, recovered) == expected


def test_partition_start_lines():
    assert partition_start_lines(2, "input_images", 10, 4, 3, dry_run=True) == [
        "--- Mode: PARALLEL (2 cores) (dry run) ---",
        "Found 10 source(s) in 'input_images', in 4 partition(s).",
        "-> 3 partition(s) would build.",
    ]


def test_built_targets_adds_up_the_lines_of_a_partitions_log():
    log = "12 of 48 steps (25%) done\nBuilt 40 target(s).\nDone in 3.1 s.\nStopped after building 2 target(s); a rerun builds the rest.\n"
    assert built_targets(log) == 42
    assert built_targets("Nothing to build: every target is up to date.\n") == 0


def test_error_lines_start_where_the_error_does():
    log = "1 of 3 steps doneERROR input_images/x.jpg: truncated\nINFO fine\nFAILED: 1 source(s): input_images/x.jpg\nERROR input_images/x.jpg: truncated\n"
    assert error_lines(log) == ["ERROR input_images/x.jpg: truncated", "FAILED: 1 source(s): input_images/x.jpg"]


def test_partition_end_lines():
    assert partition_end_lines(1.5, 0, 0, {})[0] == "Nothing to build: every partition is up to date."
    lines = partition_end_lines(2.0, 1, 7, {3: ("build/logs/build_partition/3.log", ["ERROR a.jpg: bad"])}, ["a_1x1.png"])
    assert lines == [
        "Built 1 partition(s): 7 target(s).",
        "FAILED: partition 3 (log: build/logs/build_partition/3.log)",
        "   ERROR a.jpg: bad",
        "Web files not updated: they wait on the failed partition(s).",
        "1 orphaned output(s) no source or setting makes any more: a_1x1.png",
        "   remove them with: uv run snakemake --cores 1 remove_orphans",
        "Done in 2.00 s.",
    ]
    assert partition_end_lines(1.0, 2, 9, {}, stopped=True)[0] == "Stopped after 2 partition(s); a rerun builds the rest."
