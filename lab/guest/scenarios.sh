#!/bin/sh
# Runs Molecule scenarios inside the lab VM, one after another:
#   sh lab/guest/scenarios.sh [SCENARIO...]     (default: every scenario)
# Each runs its full `molecule test`. A scenario with a negative.yml side
# effect then proves its verifier can fail: converge, verify (must pass),
# break the cluster, then run the tests negative.yml names: each must fail for
# the reason it names, and nothing else may (lab/guest/negative_check.py).
set -u
cd "$(dirname "$0")/../.." || exit 2
# the lab's settings over the scenarios' base configuration (no prerun)
molecule() { command molecule -c .config/molecule/config.yml -c lab/guest/molecule.yml "$@"; }
if [ $# -eq 0 ]; then
    for f in molecule/*/molecule.yml; do
        s=${f#molecule/}
        set -- "$@" "${s%/molecule.yml}"
    done
fi

passed=0 failed=0 summary=""
note() { echo "=== $*"; }

run_one() {
    s=$1
    if [ ! -f "molecule/$s/negative.yml" ]; then
        molecule test -s "$s"
        return
    fi
    ok=0
    molecule test -s "$s" --destroy never || ok=1
    if [ $ok -eq 0 ]; then
        note "$s: negative check: breaking the cluster, the tests negative.yml names must now fail"
        if ! molecule side-effect -s "$s"; then
            note "$s: the negative side effect itself failed"; ok=1
        else
            # only the tests negative.yml names run; lab/guest/negative_check.py judges
            verdict=$(mktemp)
            LVS_NEGATIVE_CHECK=$PWD/molecule/$s/negative.yml LVS_NEGATIVE_VERDICT=$verdict \
                PYTHONPATH=$PWD/lab/guest${PYTHONPATH:+:$PYTHONPATH} PYTEST_ADDOPTS="-p negative_check" \
                molecule verify -s "$s"
            if [ "$(head -n 1 "$verdict")" = passed ]; then
                sed 1d "$verdict" | while IFS= read -r line; do note "$s: negative check passed: $line"; done
            else
                note "$s: NEGATIVE CHECK FAILED: the named tests did not fail for the named reasons:"
                sed 1d "$verdict" | sed 's/^/    /'; ok=1
            fi
            rm -f "$verdict"
        fi
    fi
    molecule destroy -s "$s" >/dev/null || ok=1
    return $ok
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for s in "$@"; do
    start=$(date +%s)
    note "scenario $s"
    # the output is kept, so that the summary can say why a scenario failed
    if { run_one "$s"; echo $? >"$log.rc"; } 2>&1 | tee "$log" && [ "$(cat "$log.rc")" = 0 ]; then
        passed=$((passed + 1)); verdict=passed; why=""
    else
        failed=$((failed + 1)); verdict=FAILED
        why=$(grep -E '^(fatal:|E   |FAILED |.*NEGATIVE CHECK FAILED|.*Executed: Failed|CRITICAL)' "$log" | tail -n 12 | cut -c1-300 | sed 's/^/      /')
    fi
    rm -f "$log.rc"
    t=$(( $(date +%s) - start ))
    summary="$summary
  $s: $verdict in ${t} s"
    [ -n "${why:-}" ] && summary="$summary
$why"
    note "scenario $s $verdict in ${t} s"
done
echo "=== Molecule scenarios:$summary"
echo "scenarios: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
