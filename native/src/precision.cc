// The native backend's precision switch (fp32 or bf16 convolutions in training), what oneDNN dispatches on this CPU,
// and the f32 -> bf16 rounding the bf16 paths use for their inputs.
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "common.h"

namespace hg {

namespace {

Precision current = Precision::f32;

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/** Round to nearest even; NaNs stay (quiet) NaNs. */
HG_CLONES void roundRange(const float *in, uint16_t *out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &in[i], sizeof bits);
    const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    out[i] = nan ? static_cast<uint16_t>((bits >> 16) | 0x40u) : static_cast<uint16_t>(rounded);
  }
}

}  // namespace

Precision convPrecision() { return current; }

const char *effectiveIsaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

bool nativeBf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

namespace {

/**
 * Under Precision::bf16, which precision each pass of each convolution geometry runs in. bf16 is not faster
 * everywhere: f32 3x3 layers run as Winograd F(4x4, 3x3) (2.25x fewer multiplies; oneDNN has no bf16 Winograd),
 * small maps and thin layers pay more for the bf16 copies of their inputs than they save, and which side wins differs
 * between CPUs (on the Intel Xeon measured first bf16 beat f32 Winograd on the small network's 3x3 layers; on the AMD
 * EPYC of 2026-12-06 f32 Winograd beat bf16 on the paper network's, 221 against 247 ms a step). So each (pass,
 * geometry) is timed on its first calls in both precisions, alternating, the first of each untimed (it builds the
 * primitive), and the faster one is kept from then on. Both precisions give valid results, so training goes on
 * during the measurement.
 */
// Variant 0 is bf16, 1 f32.
std::unordered_map<std::string, VariantTrial> trials;
Bf16Layers layersMode = [] {
  const char *v = std::getenv("HOURGLASS_NATIVE_BF16");
  return v != nullptr && std::string(v) == "all" ? Bf16Layers::all : Bf16Layers::measured;
}();

}  // namespace

bool bf16AllLayers() { return layersMode == Bf16Layers::all; }

LayerPrecision::LayerPrecision(const std::string &key)
    : bf16(false), trial(nullptr), start(std::chrono::steady_clock::now()) {
  if (current != Precision::bf16) return;
  if (layersMode == Bf16Layers::all) {
    bf16 = true;
    return;
  }
  VariantTrial &t = trials[key];
  if (t.decided()) {
    bf16 = t.fastest() == 0;
    return;
  }
  trial = &t;
  bf16 = t.next() == 0;
}

void LayerPrecision::done() {
  if (trial == nullptr) return;
  trial->record(bf16 ? 0 : 1, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

void toBf16(const float *in, uint16_t *out, size_t count) {
  constexpr size_t PARALLEL_MIN = 1 << 16;
  if (count < PARALLEL_MIN) {
    roundRange(in, out, count);
    return;
  }
#pragma omp parallel
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num()), nt = static_cast<size_t>(omp_get_num_threads());
    const size_t b = count * t / nt, e = count * (t + 1) / nt;
    roundRange(in + b, out + b, e - b);
  }
}

namespace {

/**
 * setPrecision('fp32' | 'bf16', layers?: 'measured' | 'all'): bf16 only where nativeBf16(), otherwise an error naming
 * the ISA. layers: 'measured' (default) keeps bf16 for the convolution passes where it measured faster (LayerPrecision),
 * 'all' takes it for every pass (kernel tests; also HOURGLASS_NATIVE_BF16=all).
 */
Napi::Value SetPrecision(const Napi::CallbackInfo &info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setPrecision: precision must be 'fp32' or 'bf16'");
  const std::string p = info[0].As<Napi::String>().Utf8Value();
  std::lock_guard<std::mutex> lock(kernelMutex());
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    const std::string layers = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (layers != "measured" && layers != "all") {
      throw Napi::TypeError::New(info.Env(), "setPrecision: layers must be 'measured' or 'all'");
    }
    layersMode = layers == "all" ? Bf16Layers::all : Bf16Layers::measured;
  }
  if (p == "fp32") {
    current = Precision::f32;
  } else if (p == "bf16") {
    if (!nativeBf16()) {
      throw Napi::Error::New(info.Env(), std::string("bf16 needs native bf16 instructions (avx512_bf16 or amx_bf16); oneDNN dispatches ") +
                                             effectiveIsaName() + " on this CPU");
    }
    current = Precision::bf16;
  } else {
    throw Napi::TypeError::New(info.Env(), "setPrecision: precision must be 'fp32' or 'bf16', got '" + p + "'");
  }
  return info.Env().Undefined();
}

/**
 * { precision, nativeBf16, isa, bf16LayerMode: 'measured' | 'all', bf16Layers: training convolution passes measured
 * so far, bf16Kept: those that kept bf16 }.
 */
Napi::Value PrecisionInfo(const Napi::CallbackInfo &info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("precision", current == Precision::bf16 ? "bf16" : "fp32");
  out.Set("nativeBf16", nativeBf16());
  out.Set("isa", effectiveIsaName());
  int measured = 0, kept = 0;
  for (const auto &entry : trials) {
    if (!entry.second.decided()) continue;
    ++measured;
    if (entry.second.fastest() == 0) ++kept;
  }
  out.Set("bf16LayerMode", layersMode == Bf16Layers::all ? "all" : "measured");
  out.Set("bf16Layers", measured);
  out.Set("bf16Kept", kept);
  return out;
}

}  // namespace

void registerPrecision(Napi::Env env, Napi::Object exports) {
  exports.Set("setPrecision", Napi::Function::New(env, SetPrecision, "setPrecision"));
  exports.Set("precisionInfo", Napi::Function::New(env, PrecisionInfo, "precisionInfo"));
}

}  // namespace hg
