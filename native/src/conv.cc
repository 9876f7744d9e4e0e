// 2-D convolution on oneDNN: forward (optional bias and fused ReLU), backprop to the input and to the filter.
// Activations stay NHWC in the tensors' own buffers; filters are TF.js's HWIO, reordered into oneDNN's blocked layout.
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
  explicit ConvGeometry(const int32_t *v)
      : n(v[0]), ih(v[1]), iw(v[2]), ic(v[3]), kh(v[4]), kw(v[5]), oc(v[6]), oh(v[7]), ow(v[8]), sh(v[9]),
        sw(v[10]), dh(v[11]), dw(v[12]), pt(v[13]), pl(v[14]), pb(v[15]), pr(v[16]) {}
  memory::desc src() const { return memory::desc({n, ic, ih, iw}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, oc, oh, ow}, dt::f32, tag::nhwc); }
  memory::desc weightsUser() const { return memory::desc({oc, ic, kh, kw}, dt::f32, tag::hwio); }
  memory::desc weightsAny() const { return memory::desc({oc, ic, kh, kw}, dt::f32, tag::any); }
  memory::desc bias() const { return memory::desc({oc}, dt::f32, tag::a); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }

  dnnl::convolution_forward::desc forwardDesc(dnnl::prop_kind prop, bool withBias) const {
    if (withBias) {
      return dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, src(), weightsAny(), bias(),
                                             dst(), strides(), dilates(), padL(), padR());
    }
    return dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, src(), weightsAny(), dst(),
                                           strides(), dilates(), padL(), padR());
  }
};

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

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  WeightsIn weights;
  Forward(const ConvGeometry &g, bool withBias, bool relu)
      : pd(makePd(g, withBias, relu)), prim(pd), weights(g.weightsUser(), pd.weights_desc()) {}
  static dnnl::convolution_forward::primitive_desc makePd(const ConvGeometry &g, bool withBias, bool relu) {
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
  explicit BackwardData(const ConvGeometry &g)
      : pd(makePd(g)), prim(pd), weights(g.weightsUser(), pd.weights_desc()) {}
  static dnnl::convolution_backward_data::primitive_desc makePd(const ConvGeometry &g) {
    dnnl::convolution_forward::primitive_desc hint(g.forwardDesc(dnnl::prop_kind::forward_training, false),
                                                   cpuEngine());
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src(), g.weightsAny(), g.dst(),
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
  explicit BackwardWeights(const ConvGeometry &g) : pd(makePd(g)), prim(pd), user(g.weightsUser()) {
    needReorder = pd.diff_weights_desc() != user;
    if (needReorder) {
      blocked = memory(pd.diff_weights_desc(), cpuEngine());
      toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), pd.diff_weights_desc(), cpuEngine(), user));
    }
  }
  static dnnl::convolution_backward_weights::primitive_desc makePd(const ConvGeometry &g) {
    dnnl::convolution_forward::primitive_desc hint(g.forwardDesc(dnnl::prop_kind::forward_training, false),
                                                   cpuEngine());
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.src(), g.weightsAny(), g.dst(),
                                               g.strides(), g.dilates(), g.padL(), g.padR());
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
    int flags = (b != nullptr ? 1 : 0) | (relu ? 2 : 0);
    Forward &e = cached<Forward>(forwardCache, keyOf(gv, ConvGeometry::COUNT, flags),
                                 [&] { return new Forward(g, b != nullptr, relu); });
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(g.src(), cpuEngine(), x)},
        {DNNL_ARG_WEIGHTS, e.weights.bind(w)},
        {DNNL_ARG_DST, memory(g.dst(), cpuEngine(), y)},
        {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
    };
    if (b != nullptr) args.emplace(DNNL_ARG_BIAS, memory(g.bias(), cpuEngine(), b));
    e.prim.execute(cpuStream(), args);
    cpuStream().wait();
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
    BackwardData &e = cached<BackwardData>(backwardDataCache, keyOf(gv, ConvGeometry::COUNT, 0),
                                           [&] { return new BackwardData(g); });
    e.prim.execute(cpuStream(), {
                                    {DNNL_ARG_DIFF_DST, memory(g.dst(), cpuEngine(), dy)},
                                    {DNNL_ARG_WEIGHTS, e.weights.bind(w)},
                                    {DNNL_ARG_DIFF_SRC, memory(g.src(), cpuEngine(), dx)},
                                    {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
                                });
    cpuStream().wait();
  });
}

/** conv2dBackpropFilter(x, dy, dfilter, geometry): dfilter (HWIO) = gradient with respect to the filter. */
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo &info) {
  return guarded(info, "conv2dBackpropFilter", [&] {
    float *x = f32Arg(info, 0, "x");
    float *dy = f32Arg(info, 1, "dy");
    float *dw = f32Arg(info, 2, "dfilter");
    const int32_t *gv = i32Arg(info, 3, ConvGeometry::COUNT, "geometry");
    ConvGeometry g(gv);
    BackwardWeights &e = cached<BackwardWeights>(backwardWeightsCache, keyOf(gv, ConvGeometry::COUNT, 0),
                                                 [&] { return new BackwardWeights(g); });
    memory userMem(e.user, cpuEngine(), dw);
    e.prim.execute(cpuStream(), {
                                    {DNNL_ARG_SRC, memory(g.src(), cpuEngine(), x)},
                                    {DNNL_ARG_DIFF_DST, memory(g.dst(), cpuEngine(), dy)},
                                    {DNNL_ARG_DIFF_WEIGHTS, e.needReorder ? e.blocked : userMem},
                                    {DNNL_ARG_SCRATCHPAD, scratchpadMemory(e.pd.scratchpad_desc())},
                                });
    if (e.needReorder) e.toUser.execute(cpuStream(), e.blocked, userMem);
    cpuStream().wait();
  });
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput, "conv2dBackpropInput"));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter, "conv2dBackpropFilter"));
}

}  // namespace hg
