#!/usr/bin/env bash
# Time the README's two quick-start commands verbatim, from a fresh clone and a fresh home directory, and
# record the durations with the commit and the machine in reports/quickstart/durations.json (the README's
# figures are generated from that file). Needs the package indexes (PyPI) as a user's machine does.
#
#   bash studies/quickstart/quickstart_timing.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/quickstart-XXXX)
git clone -q "$ROOT" "$WORK/mnist-models"
commit=$(git -C "$WORK/mnist-models" rev-parse HEAD)
mkdir -p "$WORK/home"
# the real interpreter's folder first: a fresh home has no pyenv (or other) shims' state
PYBIN=$(python3 -c 'import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))')
commands=$(python3 - "$ROOT/README.md" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
print("\n".join(line for line in block.splitlines() if line and not line.startswith("#")))
EOF
)
mapfile -t lines <<< "$commands"
durations=()
for k in 0 1; do
    start=$(date +%s.%N)
    (cd "$WORK/mnist-models" && env -i PATH="$PYBIN:/usr/bin:/bin" HOME="$WORK/home" bash -c "${lines[$k]}") > "$WORK/command$((k + 1)).log" 2>&1
    durations+=("$(python3 -c "print(round($(date +%s.%N) - $start, 1))")")
    tail -3 "$WORK/command$((k + 1)).log"
done
mkdir -p reports/quickstart
python3 - "$commit" "${durations[0]}" "${durations[1]}" "$WORK" <<'EOF'
import json, re, subprocess, sys
from pathlib import Path
commit, first, second, work = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
info = Path("/proc/cpuinfo").read_text()
model = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name"))
flags = next(l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags"))
summary = lambda k: re.findall(r"=+ (.*? in [\d.]+s.*?) =+", (work / f"command{k}.log").read_text())[-1:]
record = {
    "commit": commit,
    "cpu": model,
    "isa": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags],
    "cores": sum(1 for l in info.splitlines() if l.startswith("processor")),
    "command_1_s": first,
    "command_2_s": second,
    "command_1_pytest": summary(1),
    "command_2_pytest": summary(2),
    "date": subprocess.run(["date", "-u", "+%Y-%m-%d"], capture_output=True, text=True).stdout.strip(),
}
Path("reports/quickstart/durations.json").write_text(json.dumps(record, indent=2) + "\n")
print(json.dumps(record, indent=2))
EOF
