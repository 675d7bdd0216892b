# What happens at the start and at the end of every run: the summary (wording in
# scripts/summary.py) and the job server for cheap job launches
# (scripts/jobserver.py). The helpers are in rules/common.smk.
import atexit

if workflow.exec_mode == ExecMode.DEFAULT:
    atexit.register(print_summary_at_exit)


onstart:
    acquire_run_lock()
    keep_dag_out_of_garbage_collection()
    schedule_one_reevaluation_at_a_time()
    list_remaining_jobs_only_when_read()
    print_start_summary()
    cap_memory_to_machine()
    remove_stale_partial_files()
    start_jobserver()


onsuccess:
    stop_jobserver()
    print_end_summary()


onerror:
    stop_jobserver()
    print_end_summary()
