#!/bin/sh
# ptxas_check.sh ARCH FILE.ptx: assembles FILE with the CUDA toolkit's ptxas
# when it is installed (not a package users have: CI machines usually lack
# it), else says that the check was skipped. Either way one line.
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
if [ ! -x "$ptxas" ]; then
  echo "ptxas: skipped ($ptxas not found)"
  exit 0
fi
"$ptxas" --gpu-name "$1" "$2" -o /dev/null || exit 1
echo "ptxas: ok ($1)"
