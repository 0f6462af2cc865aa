//===- CpuPipeline.cpp - q3 to an x86-64 object, in process ------------------===//
#include "codegen/CpuPipeline.h"
#include "frontend/AtomicFile.h"
#include "frontend/Error.h"
#include "passes/FusionPipeline.h"
#include "passes/KernelLocation.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"
#include "passes/TargetInfo.h"

#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/AMX/Transforms.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace q3c {
namespace {
IRDump gDump;
} // namespace

void applyIRDump(PassManager &pm) {
  if (gDump.after.empty()) return;
  // Module-scope printing needs a single-threaded pass manager.
  pm.getContext()->disableMultithreading();
  std::string after = gDump.after;
  pm.enableIRPrintingToFileTree([](Pass *, Operation *) { return false; },
                                [after](Pass *p, Operation *) { return after == "all" || p->getArgument() == after; },
                                /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                                /*printAfterOnlyOnFailure=*/false, gDump.dir);
}

void setIRDump(const IRDump &dump) { gDump = dump; }

LogicalResult runFusion(ModuleOp module, const std::vector<std::string> &fusionPasses) {
  PassManager pm(module.getContext());
  q3::addFusionPasses(pm, fusionPasses);
  return pm.run(module);
}

void addQ3CpuPipeline(OpPassManager &pm, const std::vector<std::string> &fusionPasses, const CpuTarget &target) {
  q3::addFusionPasses(pm, fusionPasses);
  pm.addPass(q3::createAddLogitsFreePrefill());
  pm.addPass(q3::createSetTarget(q3::SetTargetOptions{target.cpu, target.features}));
  pm.addPass(q3::createChooseWeightLayouts(q3::ChooseWeightLayoutsOptions{target.dot, target.weights, target.lmHead, target.int8Dot}));
  pm.addPass(q3::createChooseLoweringConfig(q3::ChooseLoweringConfigOptions{target.dot, target.int8Dot, target.decodeDot}));
  pm.addPass(q3::createPlanWeights());
  pm.addPass(createInlinerPass());
  pm.addPass(createSymbolDCEPass());
  pm.addPass(q3::createKernelLocations());
  pm.addPass(q3::createLowerToLoops());
  pm.addPass(q3::createPlanArena());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(q3::createApproximateMath());
  // scf.parallel -> omp; the runtime implements the kmpc calls it becomes.
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(q3::createHoistParallelScratch());
  pm.addPass(createCanonicalizerPass()); // inlines the memref.alloca_scope it adds
  pm.addPass(q3::createSliceableParallelRegions());
  if (target.profileKernels) pm.addPass(q3::createProfileKernels());
}

LogicalResult runQ3Lowering(ModuleOp module, const std::vector<std::string> &fusionPasses, const CpuTarget &target) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  func::registerInlinerExtension(registry);
  ctx->appendDialectRegistry(registry);
  PassManager pm(ctx);
  addQ3CpuPipeline(pm, fusionPasses, target);
  applyIRDump(pm);
  return pm.run(module);
}

void registerQ3CpuPipeline() {
  struct Options : PassPipelineOptions<Options> {
    Option<std::string> fusion{*this, "fusion", llvm::cl::desc("fusion level: none, basic or all"),
                               llvm::cl::init("all")};
    ListOption<std::string> enable{*this, "enable-pass", llvm::cl::desc("also run these fusion passes")};
    ListOption<std::string> disable{*this, "disable-pass", llvm::cl::desc("skip these fusion passes")};
    Option<std::string> cpu{*this, "target-cpu", llvm::cl::desc("LLVM CPU name, or host"), llvm::cl::init("host")};
    Option<std::string> features{*this, "target-features", llvm::cl::desc("extra LLVM target features"),
                                 llvm::cl::init("")};
    Option<std::string> dot{*this, "prefill-dot",
                            llvm::cl::desc("prefill products: auto, fma, bf16, bf16-emulated, amx or amx-emulated"), llvm::cl::init("auto")};
    Option<std::string> weights{*this, "weights-dtype", llvm::cl::desc("the layers' weights: bf16, int8 or int4"),
                                llvm::cl::init("bf16")};
    Option<std::string> lmHead{*this, "lm-head-dtype", llvm::cl::desc("with int8 / int4 weights: the LM head's, bf16, int8 or int4"),
                               llvm::cl::init("bf16")};
    Option<std::string> int8Dot{*this, "int8-dot", llvm::cl::desc("int8 weights: auto, fma, i8 or i8-emulated"),
                                llvm::cl::init("auto")};
    Option<std::string> decodeDot{*this, "decode-dot", llvm::cl::desc("decode products on paired bf16 weights: auto or fma"),
                                  llvm::cl::init("auto")};
    Option<bool> profile{*this, "profile-kernels", llvm::cl::desc("time each kernel (q3-profile-kernels)"),
                         llvm::cl::init(false)};
  };
  PassPipelineRegistration<Options>(
      "q3-cpu-pipeline",
      "what `qwen3c build` runs on the q3 module up to the upstream LLVM conversions: fusion, target, strategy, "
      "weight plan, inlining, lowering to loops, OpenMP regions",
      [](OpPassManager &pm, const Options &o) {
        q3::FusionOptions fusion;
        fusion.level = o.fusion;
        fusion.enable.assign(o.enable.begin(), o.enable.end());
        fusion.disable.assign(o.disable.begin(), o.disable.end());
        std::string error;
        std::vector<std::string> passes = q3::selectFusionPasses(fusion, error);
        if (!error.empty()) {
          llvm::errs() << "q3-cpu-pipeline: " << error << "\n";
          std::exit(1);
        }
        addQ3CpuPipeline(pm, passes, CpuTarget{o.cpu, o.features, o.dot, o.weights, o.lmHead, o.int8Dot, o.decodeDot, o.profile});
      });
}

LogicalResult runLLVMLowering(ModuleOp module, bool lineTables) {
  // Control flow and OpenMP regions last, through convert-to-llvm: its one
  // type converter knows every dialect's types, including !amx.tile block
  // arguments (an AMX accumulator carried through a k loop inside a
  // parallel loop), which the cf and omp passes' own converters do not.
  DialectRegistry interfaces;
  cf::registerConvertControlFlowToLLVMInterface(interfaces);
  registerConvertAMXToLLVMInterface(interfaces);
  registerConvertOpenMPToLLVMInterface(interfaces);
  module.getContext()->appendDialectRegistry(interfaces);
  PassManager pm(module.getContext());
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.reassociateFPReductions = true; // tree reductions, not 16 serial adds
  vectorOptions.x86Vector = true;
  vectorOptions.amx = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  ConvertToLLVMPassOptions rest;
  rest.filterDialects = {"cf", "amx", "omp"};
  pm.addPass(createConvertToLLVMPass(rest));
  pm.addPass(createReconcileUnrealizedCastsPass());
  applyIRDump(pm);
  if (failed(pm.run(module))) return failure();
  if (!lineTables) return success();
  // Every op a line: LLVM requires one on each call in a function with a
  // subprogram. Ops of no kernel get line 0 (LLVM's "no source line").
  Location none = FileLineColLoc::get(module.getContext(), q3::kKernelFile, 0, 0);
  module.walk([&](Operation *op) {
    if (!isa<ModuleOp>(op) && q3::kernelNumber(op->getLoc()) == 0) op->setLoc(none);
  });
  // A subprogram on each function: the translation then turns the ops'
  // file:line locations (q3-kernel-locations' numbers) into a line table.
  PassManager scopes(module.getContext());
  scopes.addPass(LLVM::createDIScopeForLLVMFuncOpPass());
  return scopes.run(module);
}

namespace {

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const q3::TargetInfo &t) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target) fail("no LLVM target for ", triple.str(), ": ", err);
  const std::string &cpu = t.cpu, &features = t.llvmFeatures;
  llvm::TargetOptions options;
  options.MCOptions.AsmVerbose = true; // assembly text with loop comments and spill notes (objects: no change)
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm) fail("cannot create a target machine for cpu '", cpu, "'");
  return tm;
}

void addStringGlobal(llvm::Module &m, const std::string &name, const std::string &value) {
  llvm::Constant *text = llvm::ConstantDataArray::getString(m.getContext(), value);
  new llvm::GlobalVariable(m, text->getType(), /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage, text, name);
}

// qwen3c_prompt_entries: {rows, _mlir_ciface_ wrappers of the logits-free
// entry and of its one-row-logits twin} per prompt chunk, in increasing rows.
void addPromptEntryTable(llvm::Module &m, const std::vector<int64_t> &chunks) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *entryType = llvm::StructType::get(ctx, {i64, ptr, ptr});
  std::vector<llvm::Constant *> entries;
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::string base = i == 0 ? "_mlir_ciface_prefill" : "_mlir_ciface_prefill_" + std::to_string(chunks[i]);
    llvm::Function *run = m.getFunction(base + "_nologits"), *last = m.getFunction(base + "_last");
    if (!run || !last) fail("internal error: the model has no ", base, "_nologits / _last for its prompt chunk of ", chunks[i]);
    entries.push_back(llvm::ConstantStruct::get(entryType, {llvm::ConstantInt::get(i64, chunks[i]), run, last}));
  }
  auto *tableType = llvm::ArrayType::get(entryType, entries.size());
  new llvm::GlobalVariable(m, tableType, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(tableType, entries), "qwen3c_prompt_entries");
}

} // namespace

q3::TargetInfo describeTarget(const CpuTarget &target) {
  q3::TargetInfo info;
  try {
    info = q3::TargetInfo::fromLLVM(target.cpu, target.features);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  // The strategy passes check these again; here they fail before any work,
  // in the options' words.
  std::string error;
  q3::prefillDot(info, target.dot, error);
  if (!error.empty()) fail("--prefill-dot", error[0] == '\'' ? "" : " " + target.dot, ": ", error);
  q3::int8Dot(info, target.int8Dot, error);
  if (!error.empty()) fail("--int8-dot", error[0] == '\'' ? "" : " " + target.int8Dot, ": ", error);
  q3::decodeDot(target.decodeDot, error);
  if (!error.empty()) fail("--decode-dot: ", error);
  return info;
}

namespace {

std::unique_ptr<llvm::Module> translate(ModuleOp module, llvm::LLVMContext &llvmContext, llvm::TargetMachine &tm) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  // A CUDA build's gpu.binary (its PTX as a global the runtime's
  // mgpuModuleLoadJIT reads) and gpu.launch_func (mgpuLaunchKernel calls).
  registerGPUDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext, "qwen3c_model");
  if (!llvmModule) fail("internal error: translation to LLVM IR failed");
  llvmModule->setDataLayout(tm.createDataLayout());
  llvmModule->setTargetTriple(tm.getTargetTriple());
  return llvmModule;
}

// O3, as clang would run it.
void optimise(llvm::Module &m, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

std::string assemblyOf(const llvm::Module &m, llvm::TargetMachine &tm) {
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(m); // code generation changes the module
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager asmGen;
  if (tm.addPassesToEmitFile(asmGen, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    fail("internal error: the target cannot emit assembly");
  asmGen.run(*copy);
  return std::string(text.str());
}

} // namespace

std::string emitAssembly(ModuleOp module, const q3::TargetInfo &target) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::TargetMachine> tm = makeTargetMachine(target);
  std::unique_ptr<llvm::Module> llvmModule = translate(module, llvmContext, *tm);
  optimise(*llvmModule, *tm);
  return assemblyOf(*llvmModule, *tm);
}

void emitObject(ModuleOp module, const std::vector<int64_t> &modelInfo, const std::vector<int64_t> &promptChunks,
                const q3::TargetInfo &target, const std::string &objectPath, const std::string &asmPath) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::TargetMachine> tm = makeTargetMachine(target);
  std::unique_ptr<llvm::Module> llvmModule = translate(module, llvmContext, *tm);

  // What the runtime reads: model constants and the weight blob.
  auto *infoType = llvm::ArrayType::get(llvm::Type::getInt64Ty(llvmContext), modelInfo.size());
  new llvm::GlobalVariable(*llvmModule, infoType, /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantDataArray::get(llvmContext, llvm::ArrayRef<int64_t>(modelInfo)),
                           "qwen3c_model_info");
  if (!promptChunks.empty()) addPromptEntryTable(*llvmModule, promptChunks);
  // What the runtime checks before running any of this code. AMX
  // instructions only come from tile intrinsics (the AMX product family):
  // amx-* is recorded only when the code has some, so a build for an AMX
  // target whose kernels never touch a tile still starts on a CPU without
  // AMX, and asks the kernel for no tile state.
  auto usesIntrinsic = [&](std::initializer_list<llvm::StringRef> prefixes) {
    return llvm::any_of(llvmModule->functions(), [&](const llvm::Function &fn) {
      return fn.isIntrinsic() && llvm::any_of(prefixes, [&](llvm::StringRef p) { return fn.getName().starts_with(p); });
    });
  };
  const bool usesTiles = usesIntrinsic({"llvm.x86.tile", "llvm.x86.tdp"});
  std::vector<std::string> recorded;
  for (const auto &f : target.features)
    if (usesTiles || !llvm::StringRef(f).starts_with("amx-")) recorded.push_back(f);
  addStringGlobal(*llvmModule, "qwen3c_target_cpu", target.cpu);
  // Where the kernels run: "" (this CPU) or "cuda:sm_NN" (q3-lower-to-gpu's launches).
  auto device = module->getAttrOfType<StringAttr>("q3.device");
  addStringGlobal(*llvmModule, "qwen3c_device", device ? device.getValue().str() : "");
  addStringGlobal(*llvmModule, "qwen3c_target_features", llvm::join(recorded, ","));
  // The widest instructions the products run: tiles, then the int8 dot
  // (vpdpbusd, or AVX2's vpmaddubsw pairs: quantised layers, the bulk of
  // their work, beside a bf16 LM head), then the bf16 pair dot.
  addStringGlobal(*llvmModule, "qwen3c_prefill_arithmetic",
                  device && !device.getValue().empty()                                       ? "cuda-fma"
                  : usesTiles                                                                  ? "amx"
                  : usesIntrinsic({"llvm.x86.avx512.vpdpbusd", "llvm.x86.avx2.pmadd.ub.sw"}) ? "i8"
                  : usesIntrinsic({"llvm.x86.avx512bf16.dpbf16ps"}) ? "bf16"
                                                                    : "fma");
  // A profiled build's kernel table (q3-profile-kernels): line N is
  // "N<TAB>function<TAB>blocks" for kernel N, what the runtime's --profile names.
  if (auto table = module->getAttrOfType<ArrayAttr>("q3.kernel_profile")) {
    std::string lines;
    for (auto [n, entry] : llvm::enumerate(table))
      if (auto text = llvm::dyn_cast<StringAttr>(entry); text && !text.getValue().empty())
        lines += std::to_string(n) + "\t" + text.getValue().str() + "\n";
    addStringGlobal(*llvmModule, "qwen3c_kernel_profile_table", lines);
  }
  optimise(*llvmModule, *tm);
  if (!asmPath.empty()) writeFileAtomically(asmPath, assemblyOf(*llvmModule, *tm)); // the same code as text
  std::error_code ec;
  llvm::raw_fd_ostream out(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec) fail(objectPath, ": cannot write: ", ec.message());
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    fail("internal error: the target cannot emit object files");
  codegen.run(*llvmModule);
  out.close();
  if (out.has_error()) {
    std::string why = out.error().message();
    out.clear_error(); // else the stream's destructor aborts the process
    fail(objectPath, ": write failed: ", why);
  }
}

} // namespace q3c
