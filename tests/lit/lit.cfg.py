# lit configuration for qwen3c's FileCheck tests.
import os
import lit.formats

config.name = "qwen3c"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qwen3c_build_dir, "tests", "lit")
config.environment["PATH"] = os.pathsep.join(
    [config.qwen3c_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%python", config.python3))
config.substitutions.append(("%tokenizer_dir", config.tokenizer_dir))
config.substitutions.append(("%openai_dir", config.openai_dir))
config.substitutions.append(("%server_tests", os.path.join(os.path.dirname(os.path.dirname(__file__)), "server")))
config.substitutions.append(("%configs", os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs")))
reference_dir = os.path.join(os.path.dirname(os.path.dirname(__file__)), "reference")
config.substitutions.append(("%ref", config.python3 + " " + os.path.join(reference_dir, "qwen3_reference.py")))
config.substitutions.append(("%limited", config.python3 + " " + os.path.join(os.path.dirname(__file__), "Inputs", "run_limited.py")))
# llama.cpp's own gguf-py (reads, dequantises and quantises GGUF tensors in numpy).
config.substitutions.append(("%gguf_py", "env PYTHONPATH=" + config.gguf_py_dir + " " + config.python3 + " " + os.path.join(reference_dir, "gguf_py_check.py")))
config.substitutions.append(("%check_gguf", config.python3 + " " + os.path.join(reference_dir, "check_gguf.py")))
config.substitutions.append(("%compare", config.python3 + " " + os.path.join(reference_dir, "compare_logits.py")))

# What this machine's CPU can run: tests of kernels for other targets say
# REQUIRES: avx512f (or avx512bf16, amx) and show as UNSUPPORTED elsewhere;
# their code is still compiled and its assembly checked by other tests.
try:
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
except OSError:
    flags = []
for flag, feature in (("avx2", "avx2"), ("avx512f", "avx512f"), ("avx512_bf16", "avx512bf16"), ("amx_bf16", "amx"), ("avx512_vnni", "avx512vnni")):
    if flag in flags:
        config.available_features.add(feature)

# The CUDA target: PTX is checked by ptxas where the toolkit is installed
# (Inputs/ptxas_check.sh says "skipped" otherwise), and the kernels run
# where a driver and a device are (REQUIRES: cuda-device).
config.substitutions.append(("%ptxas_check", "sh " + os.path.join(os.path.dirname(__file__), "Inputs", "ptxas_check.sh")))
if os.path.exists("/proc/driver/nvidia/gpus") and os.listdir("/proc/driver/nvidia/gpus"):
    config.available_features.add("cuda-device")
