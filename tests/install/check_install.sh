#!/usr/bin/env bash
# The package as a user of it meets it (issue 16): installs a build into a
# temporary prefix, then checks what is installed (program, libraries,
# headers, CMake package, SLURM scripts, man page, bash completion, Lmod
# modulefile, Spack recipe), builds experiments/embed against the prefix
# with find_package(sinapsis) and runs it under mpirun -n 2: the lecture's
# XOR truth table, then a data file of `sinapsis data make` whose model the
# installed program then evaluates.
# Usage: tests/install/check_install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/sinapsis_install.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "check_install: $*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log" >&2; fail "cmake --install failed"; }
for f in bin/sinapsis include/sinapsis/sinapsis.hpp include/sinapsis/launch/sinapsis.hpp \
         include/sinapsis/core/trainer.hpp include/sinapsis/io/model_file.hpp include/sinapsis/dist/mpi_comm.hpp \
         lib/libsinapsis.a lib/libsinapsis_core.a lib/libsinapsis_io.a lib/libsinapsis_dist.a \
         lib/cmake/sinapsis/sinapsisConfig.cmake lib/cmake/sinapsis/sinapsisConfigVersion.cmake \
         lib/cmake/sinapsis/sinapsisTargets.cmake share/sinapsis/slurm/train.sbatch share/sinapsis/slurm/sweep.sbatch \
         share/man/man1/sinapsis.1 share/bash-completion/completions/sinapsis; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done
modulefile=$(ls "$prefix"/share/sinapsis/modulefiles/sinapsis/*.lua) || fail "no modulefile installed"
[[ -x $prefix/share/sinapsis/slurm/train.sbatch ]] || fail "train.sbatch is not executable"
# Nothing of the build tree leaks into the installed package.
if grep -rl -- "$build\|$src" "$prefix/lib/cmake" >/dev/null; then fail "lib/cmake names the build or source tree"; fi

# --version: version and commit; the man page is made from --help.
"$prefix/bin/sinapsis" --version | head -1 | grep -Eq '^sinapsis [0-9.]+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$' ||
  fail "--version: $("$prefix/bin/sinapsis" --version | head -1)"
grep -q '^\.TH SINAPSIS' "$prefix/share/man/man1/sinapsis.1" || fail "the man page has no .TH SINAPSIS header"
grep -q 'plan' "$prefix/share/man/man1/sinapsis.1" || fail "the man page does not list the commands"

# find_package(sinapsis) from a separate project, and the program it builds.
cmake -S "$src/experiments/embed" -B "$work/embed" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/embed-configure.log" 2>&1 || { cat "$work/embed-configure.log" >&2; fail "configuring experiments/embed failed"; }
cmake --build "$work/embed" -j 2 >"$work/embed-build.log" 2>&1 || { cat "$work/embed-build.log" >&2; fail "building experiments/embed failed"; }
cd "$work"
out=$(mpirun -n 2 --oversubscribe "$work/embed/xor_embed" 2>&1) || { echo "$out" >&2; fail "xor_embed on the truth table failed"; }
echo "$out"
for line in "XOR(0, 0) = 0" "XOR(0, 1) = 1" "XOR(1, 0) = 1" "XOR(1, 1) = 0" "2 ranks"; do
  grep -qF "$line" <<<"$out" || fail "xor_embed did not print '$line'"
done
"$prefix/bin/sinapsis" data make --dataset xor --samples 400 --seed 3 --out "$work/xor.h5" >/dev/null
out=$(mpirun -n 2 --oversubscribe "$work/embed/xor_embed" "$work/xor.h5" "$work/xor-model.h5" 2>&1) ||
  { echo "$out" >&2; fail "xor_embed on a data file failed"; }
echo "$out"
eval_out=$("$prefix/bin/sinapsis" eval --model "$work/xor-model.h5" --data "$work/xor.h5" 2>&1) ||
  { echo "$eval_out" >&2; fail "the installed sinapsis cannot evaluate the model xor_embed wrote"; }
echo "$eval_out"

# A shard cut short: every rank ends with the shard named and exit 2, none waits.
"$prefix/bin/sinapsis" data shard --input "$work/xor.h5" --shards 2 --out-dir "$work/shards" >/dev/null
truncate -s 3000 "$work/shards/xor-00001-of-00002.h5"
status=0
out=$(timeout 120 mpirun -n 2 --oversubscribe "$work/embed/xor_embed" "$work/shards" "$work/never.h5" 2>&1) || status=$?
((status == 2)) || { echo "$out" >&2; fail "xor_embed on a cut shard exited $status (expected 2)"; }
grep -q "xor-00001-of-00002.h5" <<<"$out" || { echo "$out" >&2; fail "the cut shard is not named"; }
[[ ! -e $work/never.h5 ]] || fail "a model was written from a failed read"

# Lmod: module use / load puts the prefix's sinapsis first on PATH.
if [[ -r /usr/share/lmod/lmod/init/bash ]]; then
  loaded=$(env -i HOME="$HOME" PATH=/usr/bin:/bin bash -c "
    source /usr/share/lmod/lmod/init/bash
    module use '$prefix/share/sinapsis/modulefiles'
    module load sinapsis
    command -v sinapsis; sinapsis --version | head -1; echo \"root \$SINAPSIS_ROOT\"" 2>&1) ||
    { echo "$loaded" >&2; fail "module load sinapsis failed"; }
  grep -qx "$prefix/bin/sinapsis" <<<"$loaded" || { echo "$loaded" >&2; fail "module load did not put $prefix/bin first"; }
  grep -qx "root $prefix" <<<"$loaded" || { echo "$loaded" >&2; fail "SINAPSIS_ROOT is not the prefix"; }
else
  fail "Lmod is not installed (launch/deps.sh installs lmod)"
fi

# Bash completion: commands, then a command's options, from the program.
completion=$(PATH="$prefix/bin:$PATH" bash -c "
  source '$prefix/share/bash-completion/completions/sinapsis'
  COMP_WORDS=(sinapsis pl); COMP_CWORD=1; _sinapsis; echo \"\${COMPREPLY[*]}\"
  COMP_WORDS=(sinapsis train --hid); COMP_CWORD=2; _sinapsis; echo \"\${COMPREPLY[*]}\"
  COMP_WORDS=(sinapsis data sh); COMP_CWORD=2; _sinapsis; echo \"\${COMPREPLY[*]}\"")
[[ $completion == $'plan\n--hidden\nshard' ]] || fail "completion gave '$completion'"

# As a subproject (add_subdirectory), sinapsis builds its libraries and
# program but none of its tests or benchmarks (configuring is enough to see).
mkdir -p "$work/sub"
printf 'cmake_minimum_required(VERSION 3.25)\nproject(host LANGUAGES C CXX)\nadd_subdirectory(%s sinapsis)\n' "$src" \
  >"$work/sub/CMakeLists.txt"
cmake -S "$work/sub" -B "$work/sub-build" >"$work/sub.log" 2>&1 || { cat "$work/sub.log" >&2; fail "add_subdirectory(sinapsis) failed"; }
targets=$(cmake --build "$work/sub-build" --target help)
grep -q '^\.\.\. sinapsis$' <<<"$targets" || fail "as a subproject: no sinapsis target"
grep -q '^\.\.\. sinapsis_api$' <<<"$targets" || fail "as a subproject: no sinapsis_api target"
if grep -Eq '^\.\.\. (test_|bench_|mpi_test_)' <<<"$targets"; then fail "as a subproject, tests or benchmarks are built"; fi

# The Spack recipe is valid Python.
cp "$src/launch/spack/package.py" "$work/package.py"
python3 -m py_compile "$work/package.py" || fail "launch/spack/package.py does not compile"
echo "check_install: all installed pieces work ($prefix)"
