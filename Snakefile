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


# URL sources are downloaded into the local input folder, so not on object storage.
if not storage_prefix():

    include: "rules/download.smk"


include: "rules/resize.smk"
include: "rules/web.smk"
include: "rules/orphans.smk"
include: "rules/summary.smk"


wildcard_constraints:
    stem=r"[^/]+",
    width=r"[1-9][0-9]*",
    height=r"[1-9][0-9]*",
    fmt=FORMAT_PATTERN,


rule all:
    default_target: True
    input:
        all_targets,
