// 2-D convolution on oneDNN: forward (optional bias and fused ReLU), backprop to the input and to the filter.
// Activations stay NHWC in the tensors' own buffers; filters are TF.js's HWIO, reordered into oneDNN's blocked layout.
// Under Precision::bf16 (precision.cc) the primitives read bf16 copies of x, dy and the filter, made by the same
// reorders, and accumulate and write f32: one kernel family, two input types. Which of the two each pass of each
// geometry runs in is measured on its first calls (LayerPrecision): bf16 where it is the faster.
#include <cstdlib>
#include <functional>
#include <memory>
#include <unordered_map>

#include "common.h"

namespace hg {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/** Geometry passed from TS as an Int32Array (see src/backend/native/kernels/conv.ts, convGeometry). */
struct ConvGeometry {
  int n, ih, iw, ic, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr;
  static constexpr size_t COUNT = 17;
  /** Winograd F(4x4, 3x3) in oneDNN's blocked layout, activations reordered in and out (see winogradFits). */
  bool wino;
  /** Convolution inputs (x, dy, filter) in bf16, results in f32 (set from LayerPrecision). */
  bool bf16;
  explicit ConvGeometry(const int32_t *v)
      : n(v[0]), ih(v[1]), iw(v[2]), ic(v[3]), kh(v[4]), kw(v[5]), oc(v[6]), oh(v[7]), ow(v[8]), sh(v[9]),
        sw(v[10]), dh(v[11]), dw(v[12]), pt(v[13]), pl(v[14]), pb(v[15]), pr(v[16]), wino(false), bf16(false) {}
  /**
   * 3x3 stride 1 with 16-multiple channels and at least `minPixels` output pixels in the batch. Measured here:
   * Winograd runs forward, backward-data and backward-weights 2-2.5x faster than direct on 32x32 and larger maps,
   * slower on tiny ones; the forward also pays a fixed filter transform (~7 ms for 128x128x3x3) each call, so it
   * needs larger maps to win (callers pass 16384 forward, 4096 backward). HOURGLASS_NATIVE_WINOGRAD=0 turns it off.
   */
  bool winogradFits(int64_t minPixels) const {
    static const bool enabled = [] {
      const char *v = std::getenv("HOURGLASS_NATIVE_WINOGRAD");
      return v == nullptr || std::string(v) != "0";
    }();
    return enabled && !bf16 && kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && ic % 16 == 0 &&
           oc % 16 == 0 && pt == 1 && pl == 1 && pb == 1 && pr == 1 && static_cast<int64_t>(n) * oh * ow >= minPixels;
  }
  /**
   * Throws unless the Float32Array arguments at xi (input activations, NHWC), wi (filter, HWIO) and yi (output
   * activations) hold exactly the elements this geometry reads and writes: oneDNN writes by the geometry, so an
   * array shorter than it says would be written past its end.
   */
  void checkLengths(const Napi::CallbackInfo &info, size_t xi, size_t wi, size_t yi, const char *op) const {
    expectLength(info, xi, static_cast<size_t>(n) * ih * iw * ic, op, "the input");
    expectLength(info, wi, static_cast<size_t>(kh) * kw * ic * oc, op, "the filter");
    expectLength(info, yi, static_cast<size_t>(n) * oh * ow * oc, op, "the output");
  }
  dnnl::algorithm algo() const {
    return wino ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
  }
  /** The tensors' own NHWC layouts. */
  memory::desc src() const { return memory::desc({n, ic, ih, iw}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, oc, oh, ow}, dt::f32, tag::nhwc); }
  /** Type of what a convolution reads (x, dy, filter): bf16 or f32. */
  dt in() const { return bf16 ? dt::bf16 : dt::f32; }
  /**
   * NHWC for direct (bf16 included: its blocked layouts measured no faster here once the reorders back to NHWC are
   * counted), the primitive's choice (blocked) for Winograd.
   */
  tag primTag() const { return wino ? tag::any : tag::nhwc; }
  /** What the primitive is asked for, in data type `t`. */
  memory::desc srcPrim(dt t) const { return memory::desc({n, ic, ih, iw}, t, primTag()); }
  memory::desc dstPrim(dt t) const { return memory::desc({n, oc, oh, ow}, t, primTag()); }
  ConvGeometry direct() const {
    ConvGeometry g = *this;
    g.wino = false;
    return g;
  }
  memory::desc weightsUser() const { return memory::desc({oc, ic, kh, kw}, dt::f32, tag::hwio); }
  memory::desc weightsAny() const { return memory::desc({oc, ic, kh, kw}, in(), tag::any); }
  memory::desc diffWeightsAny() const { return memory::desc({oc, ic, kh, kw}, dt::f32, tag::any); }
  memory::desc bias() const { return memory::desc({oc}, dt::f32, tag::a); }
  /** 1x1, stride 1, no padding: a GEMM over the N*H*W rows (gemm.cc). */
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0 && ih == oh && iw == ow;
  }
  int64_t rows() const { return static_cast<int64_t>(n) * ih * iw; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }

  dnnl::convolution_forward::desc forwardDesc(dnnl::prop_kind prop, bool withBias) const {
    if (withBias) {
      return dnnl::convolution_forward::desc(prop, algo(), srcPrim(in()), weightsAny(), bias(), dstPrim(dt::f32),
                                             strides(), dilates(), padL(), padR());
    }
    return dnnl::convolution_forward::desc(prop, algo(), srcPrim(in()), weightsAny(), dstPrim(dt::f32), strides(),
                                           dilates(), padL(), padR());
  }
};

/** Tags of the three passes in LayerPrecision's keys (the low bits carry bias and ReLU flags). */
constexpr int PASS_FORWARD = 16, PASS_BACKWARD_DATA = 32, PASS_BACKWARD_WEIGHTS = 64;

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/** Weights in the layout a primitive wants: the user's HWIO buffer directly, or a reorder into an owned buffer. */
struct WeightsIn {
  memory::desc user;
  memory::desc wanted;
  bool needReorder;
  memory blocked;
  dnnl::reorder toBlocked;
  WeightsIn(const memory::desc &userMd, const memory::desc &wantedMd) : user(userMd), wanted(wantedMd) {
    needReorder = userMd != wantedMd;
    if (needReorder) {
      blocked = memory(wantedMd, cpuEngine());
      toBlocked = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), userMd, cpuEngine(), wantedMd));
    }
  }
  memory bind(float *w) {
    memory userMem(user, cpuEngine(), w);
    if (!needReorder) return userMem;
    toBlocked.execute(cpuStream(), userMem, blocked);
    return blocked;
  }
};

/** An activation in the layout a primitive wants: the tensor's NHWC buffer itself, or a reorder into workspace. */
struct ActivationIn {
  memory::desc user, wanted;
  int slot;
  dnnl::reorder toWanted;
  ActivationIn(const memory::desc &userMd, const memory::desc &wantedMd, int slotIndex)
      : user(userMd), wanted(wantedMd), slot(slotIndex) {
    if (user != wanted) toWanted = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), wanted));
  }
  memory bind(float *p) {
    memory userMem(user, cpuEngine(), p);
    if (user == wanted) return userMem;
    memory m(wanted, cpuEngine(), workspace(slot, wanted.get_size()));
    toWanted.execute(cpuStream(), userMem, m);
    return m;
  }
};

/** An output written by a primitive in its layout, then reordered into the tensor's NHWC buffer if different. */
struct ActivationOut {
  memory::desc user, wanted;
  int slot;
  dnnl::reorder toUser;
  ActivationOut(const memory::desc &userMd, const memory::desc &wantedMd, int slotIndex)
      : user(userMd), wanted(wantedMd), slot(slotIndex) {
    if (user != wanted) toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), wanted, cpuEngine(), user));
  }
  memory target(float *p) {
    return user == wanted ? memory(user, cpuEngine(), p) : memory(wanted, cpuEngine(), workspace(slot, wanted.get_size()));
  }
  void finish(memory &written, float *p) {
    if (user == wanted) return;
    memory userMem(user, cpuEngine(), p);
    toUser.execute(cpuStream(), written, userMem);
  }
};

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  WeightsIn weights;
  ActivationIn src;
  ActivationOut dst;
  Forward(const ConvGeometry &g, bool withBias, bool relu)
      : pd(makePd(g, withBias, relu)), prim(pd), weights(g.weightsUser(), pd.weights_desc()),
        src(g.src(), pd.src_desc(), 0), dst(g.dst(), pd.dst_desc(), 1) {}
  static dnnl::convolution_forward::primitive_desc makePd(const ConvGeometry &g, bool withBias, bool relu) {
    try {
      return makePdAs(g, withBias, relu);
    } catch (const dnnl::error &) {
      if (!g.wino) throw;
      return makePdAs(g.direct(), withBias, relu);  // no Winograd implementation for this case: direct
    }
  }
  static dnnl::convolution_forward::primitive_desc makePdAs(const ConvGeometry &g, bool withBias, bool relu) {
    dnnl::primitive_attr attr = userScratchpad();
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    return dnnl::convolution_forward::primitive_desc(g.forwardDesc(dnnl::prop_kind::forward_inference, withBias),
                                                     attr, cpuEngine());
  }
};

struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  WeightsIn weights;
  ActivationIn diffDst;
  ActivationOut diffSrc;
  explicit BackwardData(const ConvGeometry &g)
      : pd(makePd(g)), prim(pd), weights(g.weightsUser(), pd.weights_desc()), diffDst(g.dst(), pd.diff_dst_desc(), 0),
        diffSrc(g.src(), pd.diff_src_desc(), 1) {}
  static dnnl::convolution_backward_data::primitive_desc makePd(const ConvGeometry &g) {
    try {
      return makePdAs(g);
    } catch (const dnnl::error &) {
      if (!g.wino) throw;
      return makePdAs(g.direct());
    }
  }
  static dnnl::convolution_backward_data::primitive_desc makePdAs(const ConvGeometry &g) {
    dnnl::convolution_forward::primitive_desc hint(g.forwardDesc(dnnl::prop_kind::forward_training, false),
                                                   cpuEngine());
    dnnl::convolution_backward_data::desc d(g.algo(), g.srcPrim(dt::f32), g.weightsAny(), g.dstPrim(g.in()),
                                            g.strides(), g.dilates(), g.padL(), g.padR());
    return dnnl::convolution_backward_data::primitive_desc(d, userScratchpad(), cpuEngine(), hint);
  }
};

struct BackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  memory::desc user;
  bool needReorder;
  memory blocked;
  dnnl::reorder toUser;
  ActivationIn src;
  ActivationIn diffDst;
  BackwardWeights(const ConvGeometry &g, bool withBias)
      : pd(makePd(g, withBias)), prim(pd), user(g.weightsUser()), src(g.src(), pd.src_desc(), 0),
        diffDst(g.dst(), pd.diff_dst_desc(), 1) {
    needReorder = pd.diff_weights_desc() != user;
    if (needReorder) {
      blocked = memory(pd.diff_weights_desc(), cpuEngine());
      toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), pd.diff_weights_desc(), cpuEngine(), user));
    }
  }
  static dnnl::convolution_backward_weights::primitive_desc makePd(const ConvGeometry &g, bool withBias) {
    try {
      return makePdAs(g, withBias);
    } catch (const dnnl::error &) {
      if (!g.wino) throw;
      return makePdAs(g.direct(), withBias);
    }
  }
  static dnnl::convolution_backward_weights::primitive_desc makePdAs(const ConvGeometry &g, bool withBias) {
    dnnl::convolution_forward::primitive_desc hint(g.forwardDesc(dnnl::prop_kind::forward_training, withBias),
                                                   cpuEngine());
    auto d = withBias ? dnnl::convolution_backward_weights::desc(g.algo(), g.srcPrim(g.in()), g.diffWeightsAny(),
                                                                 g.bias(), g.dstPrim(g.in()), g.strides(),
                                                                 g.dilates(), g.padL(), g.padR())
                      : dnnl::convolution_backward_weights::desc(g.algo(), g.srcPrim(g.in()), g.diffWeightsAny(),
                                                                 g.dstPrim(g.in()), g.strides(), g.dilates(),
                                                                 g.padL(), g.padR());
    return dnnl::convolution_backward_weights::primitive_desc(d, userScratchpad(), cpuEngine(), hint);
  }
};

template <typename T>
T &cached(std::unordered_map<std::string, std::unique_ptr<T>> &cache, const std::string &key,
          const std::function<T *()> &make) {
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  T *entry = make();
  cache.emplace(key, std::unique_ptr<T>(entry));
  return *entry;
}

std::unordered_map<std::string, std::unique_ptr<Forward>> forwardCache;
std::unordered_map<std::string, std::unique_ptr<BackwardData>> backwardDataCache;
std::unordered_map<std::string, std::unique_ptr<BackwardWeights>> backwardWeightsCache;

/** conv2d(x, filter, bias | null, y, geometry: Int32Array(17), relu: boolean): y = relu?(conv(x, filter) + bias). */
Napi::Value Conv2d(const Napi::CallbackInfo &info) {
  return guarded(info, "conv2d", [&] {
    float *x = f32Arg(info, 0, "x");
    float *w = f32Arg(info, 1, "filter");
    float *b = f32ArgOrNull(info, 2, "bias");
    float *y = f32Arg(info, 3, "y");
    const int32_t *gv = i32Arg(info, 4, ConvGeometry::COUNT, "geometry");
    bool relu = info[5].ToBoolean().Value();
    ConvGeometry g(gv);
    g.checkLengths(info, 0, 1, 3, "conv2d");
    if (b != nullptr) expectLength(info, 2, static_cast<size_t>(g.oc), "conv2d", "the bias");
    const int flags = (b != nullptr ? 1 : 0) | (relu ? 2 : 0);
    LayerPrecision precision(keyOf(gv, ConvGeometry::COUNT, PASS_FORWARD | flags));
    g.bf16 = precision.bf16;
    g.wino = g.winogradFits(16384);  // after the precision: Winograd is f32-only
    Forward &e = cached<Forward>(forwardCache, keyOf(gv, ConvGeometry::COUNT, flags | (g.bf16 ? 4 : 0)),
                                 [&] { return new Forward(g, b != nullptr, relu); });
    memory out = e.dst.target(y);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, e.src.bind(x)},
        {DNNL_ARG_WEIGHTS, e.weights.bind(w)},
        {DNNL_ARG_DST, out},
        {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
    };
    if (b != nullptr) args.emplace(DNNL_ARG_BIAS, memory(g.bias(), cpuEngine(), b));
    e.prim.execute(cpuStream(), args);
    e.dst.finish(out, y);
    cpuStream().wait();
    precision.done();
  });
}

/** conv2dBackpropInput(dy, filter, dx, geometry): dx = gradient of conv(x, filter) with respect to x. */
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo &info) {
  return guarded(info, "conv2dBackpropInput", [&] {
    float *dy = f32Arg(info, 0, "dy");
    float *w = f32Arg(info, 1, "filter");
    float *dx = f32Arg(info, 2, "dx");
    const int32_t *gv = i32Arg(info, 3, ConvGeometry::COUNT, "geometry");
    ConvGeometry g(gv);
    g.checkLengths(info, 2, 1, 0, "conv2dBackpropInput");  // dx is the input's shape, dy the output's
    LayerPrecision precision(keyOf(gv, ConvGeometry::COUNT, PASS_BACKWARD_DATA));
    g.bf16 = precision.bf16;
    g.wino = g.winogradFits(4096);
    if (g.pointwise()) {
      (g.bf16 ? gemmBackwardDataBf16 : gemmBackwardData)(dy, w, dx, g.rows(), g.ic, g.oc);
      precision.done();
      return;
    }
    BackwardData &e = cached<BackwardData>(backwardDataCache, keyOf(gv, ConvGeometry::COUNT, g.bf16 ? 4 : 0),
                                           [&] { return new BackwardData(g); });
    memory out = e.diffSrc.target(dx);
    e.prim.execute(cpuStream(), {
                                    {DNNL_ARG_DIFF_DST, e.diffDst.bind(dy)},
                                    {DNNL_ARG_WEIGHTS, e.weights.bind(w)},
                                    {DNNL_ARG_DIFF_SRC, out},
                                    {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
                                });
    e.diffSrc.finish(out, dx);
    cpuStream().wait();
    precision.done();
  });
}

/**
 * conv2dBackpropFilter(x, dy, dfilter, geometry, dbias?): dfilter (HWIO) = gradient with respect to the filter;
 * with dbias (a Float32Array [oc]) also the bias gradient, in the same pass where oneDNN allows.
 */
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo &info) {
  return guarded(info, "conv2dBackpropFilter", [&] {
    float *x = f32Arg(info, 0, "x");
    float *dy = f32Arg(info, 1, "dy");
    float *dw = f32Arg(info, 2, "dfilter");
    const int32_t *gv = i32Arg(info, 3, ConvGeometry::COUNT, "geometry");
    float *db = info.Length() > 4 ? f32ArgOrNull(info, 4, "dbias") : nullptr;
    ConvGeometry g(gv);
    g.checkLengths(info, 0, 2, 1, "conv2dBackpropFilter");
    LayerPrecision precision(keyOf(gv, ConvGeometry::COUNT, PASS_BACKWARD_WEIGHTS | (db != nullptr ? 1 : 0)));
    g.bf16 = precision.bf16;
    g.wino = g.winogradFits(4096);
    if (db != nullptr) expectLength(info, 4, static_cast<size_t>(g.oc), "conv2dBackpropFilter", "the bias gradient");
    if (g.pointwise()) {
      (g.bf16 ? gemmBackwardWeightsBf16 : gemmBackwardWeights)(x, dy, dw, db, g.rows(), g.ic, g.oc);
      precision.done();
      return;
    }
    const bool withBias = db != nullptr;
    BackwardWeights &e = cached<BackwardWeights>(backwardWeightsCache,
                                                 keyOf(gv, ConvGeometry::COUNT, (withBias ? 1 : 0) | (g.bf16 ? 4 : 0)),
                                                 [&] { return new BackwardWeights(g, withBias); });
    memory userMem(e.user, cpuEngine(), dw);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, e.src.bind(x)},
        {DNNL_ARG_DIFF_DST, e.diffDst.bind(dy)},
        {DNNL_ARG_DIFF_WEIGHTS, e.needReorder ? e.blocked : userMem},
        {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
    };
    if (withBias) args.emplace(DNNL_ARG_DIFF_BIAS, memory(g.bias(), cpuEngine(), db));
    e.prim.execute(cpuStream(), args);
    if (e.needReorder) e.toUser.execute(cpuStream(), e.blocked, userMem);
    cpuStream().wait();
    precision.done();
  });
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput, "conv2dBackpropInput"));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter, "conv2dBackpropFilter"));
}

}  // namespace hg
