# The summary printed at the start and at the end of every run; the helpers are
# in rules/common.smk and the wording in scripts/summary.py.
import atexit

if workflow.exec_mode == ExecMode.DEFAULT:
    atexit.register(print_summary_at_exit)


onstart:
    print_start_summary()


onsuccess:
    print_end_summary()


onerror:
    print_end_summary()
