#!/usr/bin/env bash
# Mutation check of the detectors (issue 16): applies each small blinding edit of tools/mutation/edits.txt to a
# SCRATCH COPY of the repository (never the work tree), rebuilds there, runs the detector / oracle tests, and
# reports the edits no test noticed. See docs/mutation.md.
#
#   tools/mutation/run.sh                 # every edit
#   tools/mutation/run.sh --only ID,ID    # some edits
#   tools/mutation/run.sh --check         # only check that every anchor is found exactly once (seconds)
#   tools/mutation/run.sh --list          # print every edit as parsed (find / replace), then check the anchors
#   tools/mutation/run.sh --keep          # keep the scratch copy (its path is printed)
#
# Exit: 0 every non-equivalent edit was killed; 1 a non-equivalent edit survived; 2 an edit is out of sync with the
# code (anchor not found, or found more than once), does not compile, or the baseline tests fail.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EDITS="$ROOT/tools/mutation/edits.txt"
ONLY=""
CHECK_ONLY=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY=",${2:?--only needs a list of edit ids},"; shift 2 ;;
        --check) CHECK_ONLY=1; shift ;;
        --list) CHECK_ONLY=2; shift ;;
        --keep) KEEP=1; shift ;;
        --edits) EDITS="${2:?--edits needs a file}"; shift 2 ;;
        -h|--help) sed -n "2,14p" "$0"; exit 0 ;;
        *) echo "mutation: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -f "$EDITS" ] || { echo "mutation: no edit list at $EDITS" >&2; exit 2; }

# The tests each group of edits is judged by (dotnet test --filter), per test project.
# Concurrency edits run in two stages: the sequential tables first (seconds), then, only when they all pass, the
# Coyote tests (ControlledTests, WaitForBranchTests), which are slower.
CONC_FILTER='FullyQualifiedName~InotifySim.Tests.Concurrency.Primitives&FullyQualifiedName!~OverheadMeasurement&FullyQualifiedName!~ControlledTests&FullyQualifiedName!~WaitForBranchTests'
CONC_FILTER2='FullyQualifiedName~InotifySim.Tests.Concurrency.Primitives.ControlledTests|FullyQualifiedName~InotifySim.Tests.Concurrency.Primitives.WaitForBranchTests'
PROP_FILTER='FullyQualifiedName~InotifySim.Tests.Property.Sequential.OracleTests|FullyQualifiedName~InotifySim.Tests.Property.Sequential.ModelObjectKasanTests'

# ------------------------------------------------------------------ parse the edit list
# A block:
#   === ID
#   file: PATH            (relative to the repository root)
#   tests: concurrency | property
#   why: one line         (what the edit blinds)
#   equivalent: one line  (optional: why no test can notice; such an edit is expected to survive)
#   <<< find
#   exact lines (the anchor: must occur exactly once in the file)
#   >>> replace
#   lines (may be empty: the anchor is deleted)
#   === end               (or the next === ID)
# Lines starting with '#' in column 0 are comments (one also ends a find/replace section: anchors never start
# with '#'); trailing blank lines of a find or replace section are dropped.
ids=(); files=(); tests=(); whys=(); equivs=(); finds=(); repls=()
parse() {
    local state=none id="" file="" test="" why="" equiv="" find="" repl="" line n=0
    flush() {
        if [ -n "$id" ]; then
            ids+=("$id"); files+=("$file"); tests+=("$test"); whys+=("$why"); equivs+=("$equiv")
            while [[ "$find" == *$'\n' ]]; do find="${find%$'\n'}"; done
            while [[ "$repl" == *$'\n' ]]; do repl="${repl%$'\n'}"; done
            finds+=("$find"); repls+=("$repl")
        fi
        id=""; file=""; test=""; why=""; equiv=""; find=""; repl=""; state=none
    }
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        case "$state:$line" in
            *:"=== end") flush ;;
            *:"=== "*) flush; id="${line#=== }"; state=head ;;
            find:\#*|repl:\#*) flush ;;   # a comment line in column 0 ends the block
            head:"<<< find") state=find ;;
            find:">>> replace") state=repl ;;
            find:*) find+="$line"$'\n' ;;
            repl:*) repl+="$line"$'\n' ;;
            head:file:\ *) file="${line#file: }" ;;
            head:tests:\ *) test="${line#tests: }" ;;
            head:why:\ *) why="${line#why: }" ;;
            head:equivalent:\ *) equiv="${line#equivalent: }" ;;
            none:\#*|head:\#*|none:|head:) ;;
            *) echo "mutation: $EDITS:$n: unexpected line: $line" >&2; exit 2 ;;
        esac
    done < "$EDITS"
    flush
}
parse

# ------------------------------------------------------------------ check every anchor against a tree
read_file() { local c; c="$(cat "$1"; printf x)"; printf '%s' "${c%x}"; }
# anchor_status DIR I -> "ok" | reason
anchor_status() {
    local dir="$1" i="$2" path content rest
    path="$dir/${files[$i]}"
    [ -n "${files[$i]}" ] || { echo "no file: line"; return; }
    [ -f "$path" ] || { echo "file ${files[$i]} not found"; return; }
    [ -n "${finds[$i]}" ] || { echo "empty anchor"; return; }
    case "${tests[$i]}" in concurrency|property) ;; *) echo "tests: must be concurrency or property"; return ;; esac
    [ -n "${whys[$i]}" ] || { echo "no why: line"; return; }
    content="$(read_file "$path")"
    rest="${content#*"${finds[$i]}"}"
    [ "$rest" != "$content" ] || { echo "anchor not found in ${files[$i]}"; return; }
    [[ "$rest" != *"${finds[$i]}"* ]] || { echo "anchor found more than once in ${files[$i]}"; return; }
    echo ok
}

selected=()
declare -A seen=()
for i in "${!ids[@]}"; do
    [ -z "${seen[${ids[$i]}]:-}" ] || { echo "mutation: duplicate edit id ${ids[$i]}" >&2; exit 2; }
    seen[${ids[$i]}]=1
    if [ -z "$ONLY" ] || [[ "$ONLY" == *",${ids[$i]},"* ]]; then selected+=("$i"); fi
done
if [ -n "$ONLY" ]; then
    IFS=',' read -ra wanted <<< "${ONLY:1:${#ONLY}-2}"
    for w in "${wanted[@]}"; do [ -n "${seen[$w]:-}" ] || { echo "mutation: unknown edit id '$w'" >&2; exit 2; }; done
fi

if [ $CHECK_ONLY -eq 2 ]; then
    for i in "${selected[@]}"; do
        printf '=== %s  [%s, %s]\n    why: %s\n' "${ids[$i]}" "${files[$i]}" "${tests[$i]}" "${whys[$i]}"
        [ -z "${equivs[$i]}" ] || printf '    equivalent: %s\n' "${equivs[$i]}"
        printf '%s\n' "${finds[$i]}" | sed 's/^/  - /'
        [ -z "${repls[$i]}" ] || printf '%s\n' "${repls[$i]}" | sed 's/^/  + /'
    done
fi
bad=0
for i in "${selected[@]}"; do
    s="$(anchor_status "$ROOT" "$i")"
    if [ "$s" != ok ]; then echo "ERROR   ${ids[$i]}: $s" >&2; bad=1; fi
done
[ $bad -eq 0 ] || { echo "mutation: the edit list is out of sync with the code (fix the anchors above)" >&2; exit 2; }
echo "mutation: ${#selected[@]} edits, every anchor found exactly once"
[ $CHECK_ONLY -eq 0 ] || exit 0

# ------------------------------------------------------------------ the scratch copy
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/inotify-sim-mutation.XXXXXX")"
cleanup() { if [ $KEEP -eq 0 ]; then rm -rf "$SCRATCH"; else echo "mutation: scratch copy kept at $SCRATCH"; fi; }
trap cleanup EXIT
# tracked and untracked-but-not-ignored files of the work tree as it is now (uncommitted edits included)
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | (cd "$SCRATCH" && tar -xf -)
echo "mutation: scratch copy at $SCRATCH"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 COYOTE_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
LOG="$SCRATCH/.mutation-log"
mkdir -p "$LOG"
# build / run in the scratch copy; build output goes to the log.
# The baseline builds both test projects. An edit under src/Model/ then rebuilds only the model (a plain compile: the
# model is not Coyote-rewritten) and copies InotifySim.Model.dll into both test output directories: the tests and the tool
# do not change, so rebuilding them would only cost time (an edit that changes the model's public surface would
# need them rebuilt; such an edit is not a blinding edit). Any other edit rebuilds its test project.
OUT=bin/Release/net10.0
build_project() { # build_project PROJ
    (cd "$SCRATCH" && dotnet build "$1" -c Release --no-restore -v q -nologo -p:RunAnalyzers=false > "$LOG/build.txt" 2>&1)
}
project_of() { case "$1" in concurrency) echo tests/Concurrency/Concurrency.csproj ;; property) echo tests/Property/Property.csproj ;; esac; }
build_for() { # build_for FILE TESTS -> 0 | 1
    if [[ "$1" == src/Model/* ]]; then
        build_project src/Model/Model.csproj || return 1
        local f
        for f in InotifySim.Model.dll InotifySim.Model.pdb; do
            cp "$SCRATCH/src/Model/$OUT/$f" "$SCRATCH/tests/Concurrency/$OUT/$f" || return 1
            cp "$SCRATCH/src/Model/$OUT/$f" "$SCRATCH/tests/Property/$OUT/$f" || return 1
        done
    else
        build_project "$(project_of "$2")"
    fi
}
# an edit that makes a test hang (e.g. an unpoisoned list_del lets a walk loop forever) is killed by the timeout
TEST_TIMEOUT="${MUTATION_TEST_TIMEOUT:-600}"
vstest() { # vstest DLL FILTER -> the test run's exit code; output in the log
    (cd "$SCRATCH" && timeout --kill-after=10 "$TEST_TIMEOUT" dotnet vstest "$1" "--TestCaseFilter:$2" > "$LOG/test.txt" 2>&1)
    local rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "    Failed (timeout: the tests ran longer than ${TEST_TIMEOUT}s) [hang]" >> "$LOG/test.txt"; fi
    return $rc
}
run_tests() { # run_tests NAME -> 0 pass | 1 fail
    case "$1" in
        concurrency)
            vstest "tests/Concurrency/$OUT/InotifySim.Tests.Concurrency.dll" "$CONC_FILTER" &&
                vstest "tests/Concurrency/$OUT/InotifySim.Tests.Concurrency.dll" "$CONC_FILTER2" ;;
        property) vstest "tests/Property/$OUT/InotifySim.Tests.Property.dll" "$PROP_FILTER" ;;
    esac
}
first_failure() { grep -m1 -E '^\s+Failed [A-Za-z]' "$LOG/test.txt" | sed -E 's/^\s+Failed //; s/ \[[^]]*\]$//' ; }
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

T0=$(date +%s)
echo "mutation: baseline build and tests (restore, build, both test projects)..."
(cd "$SCRATCH" && dotnet restore Simulation.sln > "$LOG/restore.txt" 2>&1) || { echo "mutation: restore failed:"; tail -20 "$LOG/restore.txt"; exit 2; }
for p in concurrency property; do
    build_project "$(project_of $p)" || { echo "mutation: baseline build failed:"; grep -E 'error|Error' "$LOG/build.txt" | head -20; exit 2; }
    run_tests $p || { echo "mutation: baseline $p tests fail without any edit: $(first_failure)"; tail -30 "$LOG/test.txt"; exit 2; }
done
echo "mutation: baseline clean in $(elapsed "$T0")"

killed=0; survived=0; equiv_survived=0; errors=0
survivors=()
for i in "${selected[@]}"; do
    t=$(date +%s)
    id="${ids[$i]}"; path="$SCRATCH/${files[$i]}"
    orig="$(read_file "$path")"
    s="$(anchor_status "$SCRATCH" "$i")"
    if [ "$s" != ok ]; then echo "ERROR     $id: $s"; errors=$((errors + 1)); continue; fi
    printf '%s' "${orig/"${finds[$i]}"/"${repls[$i]}"}" > "$path"
    if ! build_for "${files[$i]}" "${tests[$i]}"; then
        echo "ERROR     $id: the edited code does not compile: $(grep -m1 -E ' error ' "$LOG/build.txt" | sed -E 's/^.*error //')"
        errors=$((errors + 1))
    elif run_tests "${tests[$i]}"; then
        if [ -n "${equivs[$i]}" ]; then
            echo "EQUIV     $id ($(elapsed "$t")): survived, as expected: ${equivs[$i]}"
            equiv_survived=$((equiv_survived + 1))
        else
            echo "SURVIVED  $id ($(elapsed "$t")): no test noticed: ${whys[$i]} (${files[$i]})"
            survived=$((survived + 1)); survivors+=("$id")
        fi
    else
        echo "KILLED    $id ($(elapsed "$t")) by $(first_failure)"
        [ -z "${equivs[$i]}" ] || echo "          note: $id is marked equivalent but a test noticed it: check the equivalence note"
        killed=$((killed + 1))
    fi
    printf '%s' "$orig" > "$path"   # restore (a new mtime: the next build recompiles it)
done

echo
echo "mutation: ${#selected[@]} edits: $killed killed, $survived survived, $equiv_survived equivalent (survived), $errors errors; $(elapsed "$T0") in all"
if [ $errors -gt 0 ]; then exit 2; fi
if [ $survived -gt 0 ]; then echo "mutation: surviving edits (a missing test each): ${survivors[*]}"; exit 1; fi
exit 0
