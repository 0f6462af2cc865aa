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
config.substitutions.append(("%configs", os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs")))
