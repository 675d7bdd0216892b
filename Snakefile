# Responsive images: every source in input_images/ in every configured width
# and format, as results/{stem}_{width}x{height}.{format}.
#
#   snakemake --cores all       build everything (profiles/default is used)
#   snakemake -n                print the plan
#   snakemake results/NAME      build one target and what it needs
from snakemake.utils import min_version

min_version("9.27")


configfile: "config.yaml"


report: "rules/report/workflow.rst"


include: "rules/common.smk"
include: "rules/plan.smk"
include: "rules/housekeeping.smk"


# With `partitions` set, this run only runs the partitions' runs and merges
# their web files (rules/partitions.smk); each of those builds its targets
# with the rules of the other branch.
if PARTITIONED:

    include: "rules/partitions.smk"

else:
    # URL sources are downloaded into the local input folder, so not on object storage.
    if not storage_prefix():

        include: "rules/download.smk"
    include: "rules/resize.smk"
    include: "rules/web.smk"
    include: "rules/summary.smk"


include: "rules/orphans.smk"


wildcard_constraints:
    stem=r"[^/]+",
    width=r"[1-9][0-9]*",
    height=r"[1-9][0-9]*",
    fmt=FORMAT_PATTERN,
    partition=r"[0-9]+",


rule all:
    default_target: True
    input:
        partition_targets if PARTITIONED else all_targets,
