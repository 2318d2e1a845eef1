#!/bin/bash
# The whole scale-out flow for one manifest on Slurm:
#   1. npyalloc plan: the whole manifest is valid, nothing conflicts with it and every
#      filesystem has room for all of it (each task of the job checks only its own shard);
#   2. sbatch --array=0-(N-1) npyalloc.sbatch: N tasks, one shard each;
#   3. a merge job that starts when every task has ended (also when some failed) and joins
#      their reports into npyalloc-reports/<job id>/npyalloc-report.json. It fails (exit 5)
#      when a shard is missing and (exit 1) when some array failed: see its merge.out.
#
# Usage: ./submit.sh <manifest.yaml> [shards (default 4)] [npyalloc options, e.g. --var N=10]
# Environment: NPYALLOC, how to start npyalloc (default: npyalloc; from a checkout, e.g.
# "deno run -A /path/to/npyalloc/src/cli.ts"); NPYALLOC_REPORTS (default: npyalloc-reports).
# SBATCH_WAIT=1 makes both sbatch calls wait for their job (sbatch reads it as --wait).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=${1:?usage: submit.sh <manifest.yaml> [shards] [npyalloc options]}
shards=4
if [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]]; then
  shards=$2
  shift 2
else
  shift 1
fi
export NPYALLOC=${NPYALLOC:-npyalloc}
export NPYALLOC_REPORTS=${NPYALLOC_REPORTS:-npyalloc-reports}
read -r -a npyalloc <<< "$NPYALLOC"

mkdir -p "$NPYALLOC_REPORTS"
"${npyalloc[@]}" plan "$manifest" --report "$NPYALLOC_REPORTS/plan.json" "$@"

job=$(sbatch --parsable --array="0-$((shards - 1))" "$here/npyalloc.sbatch" "$manifest" "$@")
job=${job%%;*}
out="$NPYALLOC_REPORTS/$job"
mkdir -p "$out"
echo "submitted job array $job: $shards tasks; reports in $out"

merge=$(sbatch --parsable --job-name=npyalloc-merge --dependency="afterany:$job" \
  --output="$out/merge.out" \
  --wrap="$(printf '%q ' "${npyalloc[@]}") report merge $(printf '%q' "$out")/shard-*-of-$shards.json -o $(printf '%q' "$out/npyalloc-report.json")")
echo "submitted merge job ${merge%%;*}: $out/npyalloc-report.json"
