// Kernels for small networks, where tfjs' fixed cost per op (~7-18 us) is most
// of a training step (issue 10):
//
//   prelu(heap, xOff, aOff, yOff, n, C, S)
//     y = x > 0 ? x : a[c] x, with c = (k / S) % C (C = 1: one slope for every element).
//   preluGrad(heap, dyOff, xOff, aOff, dxOff, daOff, n, C, S)
//     dx = x > 0 ? dy : a[c] dy (a at x = 0, as PyTorch); da[c] = sum over x <= 0 of dy x.
//   normSum(heap, offsets, sizes, outOff, global, lambda)
//     out = lambda * sum_i ||T_i||_2 (global: lambda * ||all T_i together||_2), norms summed in double.
//   normSumGrad(heap, dyOff, offsets, sizes, outOffsets, global, lambda)
//     dT_i = dy * lambda * T_i / ||T_i|| (global: / ||all||); 0 where the norm is 0, as PyTorch.
//   mse(heap, predOff, targetOff, outOff, n, mean)
//     out = sum (pred - target)^2 (summed in double), divided by n if mean.
//   mseGrad(heap, dyOff, predOff, targetOff, dpredOff, n, mean)
//     dpred = dy * 2 (pred - target), divided by n if mean.
//   bceWithLogits(heap, predOff, targetOff, lossOff, n, mean)
//     loss = sum (1 - y) x + softplus(-x) (stable, summed in double), divided by n if mean.
//   bceWithLogitsGrad(heap, dyOff, predOff, targetOff, dpredOff, n, mean)
//     dpred = dy (sigmoid(x) - y), divided by n if mean.
//   sgd(heap, pOff, gOff, bufOff, pOut, bufOut, n, lr, momentum, dampening, weightDecay, flags)
//     torch.optim.SGD's update of one parameter (flags: 1 nesterov, 2 maximize; bufOff -1: the first
//     step with momentum, the buffer starts as the gradient; bufOut -1 without momentum).
//     pOut may be pOff and bufOut bufOff (an update in place: each element is read before it is written).
//   relu(heap, xOff, yOff, n)                      y = x > 0 ? x : 0 (NaN stays NaN, as PyTorch)
//   reluGrad(heap, dyOff, yOff, dxOff, n)          dx = y <= 0 ? 0 : dy, from the output y (PyTorch's threshold_backward)
//   linearGrad(heap, dyOff, xOff, dwOff, dbOff, M, N, K)
//     the parameter gradients of y[M,N] = x[M,K] W^T + b in one call: dW[N,K] = dy^T x (sgemm) and
//     db[N] = the column sums of dy (in double); dwOff or dbOff -1: not wanted.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HYPERLAB_SMALL_CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define HYPERLAB_SMALL_CLONES
#endif

namespace hyperlab {
namespace {

void CheckSize(const Napi::CallbackInfo& info, int64_t s, const char* name) {
  if (s < 0 || s > INT32_MAX) throw Napi::RangeError::New(info.Env(), std::string("hyperlab native: invalid sizes for ") + name);
}

// ---- PReLU -------------------------------------------------------------------------------

HYPERLAB_SMALL_CLONES void PreluRun(const float* __restrict x, float* __restrict y, int64_t n, float a) {
  for (int64_t k = 0; k < n; k++) {
    const float v = x[k];
    y[k] = (v > 0.0f ? v : 0.0f) + a * (v > 0.0f ? 0.0f : v);
  }
}

// dx for one run of one slope; returns sum over x <= 0 of dy x
HYPERLAB_SMALL_CLONES float PreluGradRun(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n,
                                         float a) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; j++) {
      const float d = dy[k + j], v = x[k + j];
      const bool pos = v > 0.0f;
      dx[k + j] = (pos ? d : 0.0f) + a * (pos ? 0.0f : d);
      acc[j] += pos ? 0.0f : d * v;
    }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; k < n; k++) {
    const float d = dy[k], v = x[k];
    const bool pos = v > 0.0f;
    dx[k] = pos ? d : a * d;
    s += pos ? 0.0f : d * v;
  }
  return s;
}

Napi::Value Prelu(const Napi::CallbackInfo& info) {
  CheckArgs(info, 7, "prelu");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4), C = Int(info, 5), S = Int(info, 6);
  CheckSize(info, n, "prelu");
  if (C < 1 || S < 1 || n % (C * S) != 0) throw Napi::RangeError::New(info.Env(), "hyperlab native: prelu sizes");
  const float* x = Floats(info, heap, Int(info, 1), n, "x");
  const float* a = Floats(info, heap, Int(info, 2), C, "weight");
  float* y = Floats(info, heap, Int(info, 3), n, "y");
  for (int64_t base = 0; base < n; base += C * S)
    for (int64_t c = 0; c < C; c++) PreluRun(x + base + c * S, y + base + c * S, S, a[c]);
  return info.Env().Undefined();
}

Napi::Value PreluGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 9, "preluGrad");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 6), C = Int(info, 7), S = Int(info, 8);
  CheckSize(info, n, "preluGrad");
  if (C < 1 || S < 1 || n % (C * S) != 0) throw Napi::RangeError::New(info.Env(), "hyperlab native: preluGrad sizes");
  const float* dy = Floats(info, heap, Int(info, 1), n, "dy");
  const float* x = Floats(info, heap, Int(info, 2), n, "x");
  const float* a = Floats(info, heap, Int(info, 3), C, "weight");
  float* dx = Floats(info, heap, Int(info, 4), n, "dx");
  float* da = Floats(info, heap, Int(info, 5), C, "dweight");
  std::vector<double> sums(C, 0.0);
  for (int64_t base = 0; base < n; base += C * S)
    for (int64_t c = 0; c < C; c++) sums[c] += PreluGradRun(dy + base + c * S, x + base + c * S, dx + base + c * S, S, a[c]);
  for (int64_t c = 0; c < C; c++) da[c] = float(sums[c]);
  return info.Env().Undefined();
}

// ---- sums of norms (XANESNET's L2 regularisation) --------------------------------------------

HYPERLAB_SMALL_CLONES double SumSquares(const float* x, int64_t n) {
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) {  // float partial sums of short blocks, added in double
    const int64_t len = n - start < 4096 ? n - start : 4096;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t k = 0;
    for (; k + 8 <= len; k += 8)
      for (int j = 0; j < 8; j++) acc[j] += x[start + k + j] * x[start + k + j];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < len; k++) s += x[start + k] * x[start + k];
    total += s;
  }
  return total;
}

HYPERLAB_SMALL_CLONES void ScaleInto(const float* __restrict x, float* __restrict out, int64_t n, float s) {
  for (int64_t k = 0; k < n; k++) out[k] = s * x[k];
}

struct Operands {
  std::vector<const float*> t;
  std::vector<int64_t> n;
};

Operands ReadOperands(const Napi::CallbackInfo& info, const Heap& heap, size_t offArg, size_t sizeArg, const char* name) {
  if (!info[offArg].IsArray() || !info[sizeArg].IsArray()) {
    throw Napi::TypeError::New(info.Env(), std::string("hyperlab native: ") + name + " takes arrays of offsets and sizes");
  }
  Napi::Array offs = info[offArg].As<Napi::Array>(), sizes = info[sizeArg].As<Napi::Array>();
  if (offs.Length() != sizes.Length()) throw Napi::RangeError::New(info.Env(), std::string("hyperlab native: ") + name + " offsets and sizes differ in length");
  Operands o;
  for (uint32_t i = 0; i < offs.Length(); i++) {
    const int64_t off = offs.Get(i).As<Napi::Number>().Int64Value(), n = sizes.Get(i).As<Napi::Number>().Int64Value();
    CheckSize(info, n, name);
    o.t.push_back(Floats(info, heap, off, n, "tensor"));
    o.n.push_back(n);
  }
  return o;
}

Napi::Value NormSum(const Napi::CallbackInfo& info) {
  CheckArgs(info, 6, "normSum");
  const Heap heap = GetHeap(info);
  const Operands o = ReadOperands(info, heap, 1, 2, "normSum");
  float* out = Floats(info, heap, Int(info, 3), 1, "out");
  const bool global = Bool(info, 4);
  const double lambda = Num(info, 5);
  double total = 0;
  for (size_t i = 0; i < o.t.size(); i++) {
    const double sq = SumSquares(o.t[i], o.n[i]);
    total += global ? sq : std::sqrt(sq);
  }
  out[0] = float(lambda * (global ? std::sqrt(total) : total));
  return info.Env().Undefined();
}

Napi::Value NormSumGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 7, "normSumGrad");
  const Heap heap = GetHeap(info);
  const float dy = Floats(info, heap, Int(info, 1), 1, "dy")[0];
  const Operands o = ReadOperands(info, heap, 2, 3, "normSumGrad");
  if (!info[4].IsArray() || info[4].As<Napi::Array>().Length() != o.t.size()) {
    throw Napi::TypeError::New(info.Env(), "hyperlab native: normSumGrad needs one output offset per tensor");
  }
  Napi::Array outs = info[4].As<Napi::Array>();
  const bool global = Bool(info, 5);
  const double lambda = Num(info, 6);
  double all = 0;
  std::vector<double> sq(o.t.size());
  for (size_t i = 0; i < o.t.size(); i++) all += sq[i] = SumSquares(o.t[i], o.n[i]);
  for (size_t i = 0; i < o.t.size(); i++) {
    float* g = Floats(info, heap, outs.Get(i).As<Napi::Number>().Int64Value(), o.n[i], "grad");
    const double norm = std::sqrt(global ? all : sq[i]);
    ScaleInto(o.t[i], g, o.n[i], norm > 0 ? float(double(dy) * lambda / norm) : 0.0f);
  }
  return info.Env().Undefined();
}

// ---- MSE loss ---------------------------------------------------------------------------

HYPERLAB_SMALL_CLONES float SquaredDiffRun(const float* __restrict a, const float* __restrict b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; j++) {
      const float d = a[k + j] - b[k + j];
      acc[j] += d * d;
    }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; k < n; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

HYPERLAB_SMALL_CLONES void MseGradRun(const float* __restrict a, const float* __restrict b, float* __restrict d, int64_t n, float scale) {
  for (int64_t k = 0; k < n; k++) d[k] = scale * (a[k] - b[k]);
}

Napi::Value Mse(const Napi::CallbackInfo& info) {
  CheckArgs(info, 6, "mse");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  CheckSize(info, n, "mse");
  const float* a = Floats(info, heap, Int(info, 1), n, "pred");
  const float* b = Floats(info, heap, Int(info, 2), n, "target");
  float* out = Floats(info, heap, Int(info, 3), 1, "loss");
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) total += SquaredDiffRun(a + start, b + start, n - start < 4096 ? n - start : 4096);
  out[0] = float(Bool(info, 5) ? total / double(n) : total);  // mean of nothing: NaN, as PyTorch
  return info.Env().Undefined();
}

Napi::Value MseGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 7, "mseGrad");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 5);
  CheckSize(info, n, "mseGrad");
  const float dy = Floats(info, heap, Int(info, 1), 1, "dy")[0];
  const float* a = Floats(info, heap, Int(info, 2), n, "pred");
  const float* b = Floats(info, heap, Int(info, 3), n, "target");
  float* d = Floats(info, heap, Int(info, 4), n, "dpred");
  MseGradRun(a, b, d, n, Bool(info, 6) ? float(2.0 * double(dy) / double(n)) : 2.0f * dy);
  return info.Env().Undefined();
}

// ---- SGD ----------------------------------------------------------------------------------

template <bool kMomentum>
HYPERLAB_SMALL_CLONES void SgdLoop(const float* p, const float* __restrict g, const float* buf, float* pOut,
                                   float* bufOut, int64_t n, float lr, float momentum, float damp1, float wd, float gsign,
                                   bool nesterov, bool first) {
  for (int64_t k = 0; k < n; k++) {
    float gk = g[k] * gsign;
    gk = gk + p[k] * wd;  // wd = 0 adds 0
    if (kMomentum) {
      const float b = first ? gk : buf[k] * momentum + gk * damp1;
      bufOut[k] = b;
      gk = nesterov ? gk + b * momentum : b;
    }
    pOut[k] = p[k] - gk * lr;
  }
}

Napi::Value Sgd(const Napi::CallbackInfo& info) {
  CheckArgs(info, 12, "sgd");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 6);
  CheckSize(info, n, "sgd");
  const float* p = Floats(info, heap, Int(info, 1), n, "param");
  const float* g = Floats(info, heap, Int(info, 2), n, "grad");
  const float* buf = OptionalFloats(info, heap, Int(info, 3), n, "momentum_buffer");
  float* pOut = Floats(info, heap, Int(info, 4), n, "param out");
  float* bufOut = OptionalFloats(info, heap, Int(info, 5), n, "momentum_buffer out");
  const float lr = float(Num(info, 7)), momentum = float(Num(info, 8)), damp1 = float(1 - Num(info, 9)), wd = float(Num(info, 10));
  const int64_t flags = Int(info, 11);
  const float gsign = flags & 2 ? -1.0f : 1.0f;
  if (momentum != 0) {
    if (!bufOut) throw Napi::TypeError::New(info.Env(), "hyperlab native: sgd with momentum needs momentum_buffer out");
    SgdLoop<true>(p, g, buf, pOut, bufOut, n, lr, momentum, damp1, wd, gsign, flags & 1, buf == nullptr);
  } else {
    SgdLoop<false>(p, g, nullptr, pOut, nullptr, n, lr, 0, 1, wd, gsign, false, false);
  }
  return info.Env().Undefined();
}

// ---- ReLU and Linear's parameter gradients ---------------------------------------------------

HYPERLAB_SMALL_CLONES void ReluLoop(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    const float v = x[k];
    y[k] = v <= 0.0f ? 0.0f : v;  // NaN compares false: stays NaN
  }
}

HYPERLAB_SMALL_CLONES void ReluGradLoop(const float* __restrict dy, const float* __restrict y, float* __restrict dx, int64_t n) {
  for (int64_t k = 0; k < n; k++) dx[k] = y[k] <= 0.0f ? 0.0f : dy[k];
}

Napi::Value Relu(const Napi::CallbackInfo& info) {
  CheckArgs(info, 4, "relu");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 3);
  CheckSize(info, n, "relu");
  ReluLoop(Floats(info, heap, Int(info, 1), n, "x"), Floats(info, heap, Int(info, 2), n, "y"), n);
  return info.Env().Undefined();
}

Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 5, "reluGrad");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  CheckSize(info, n, "reluGrad");
  ReluGradLoop(Floats(info, heap, Int(info, 1), n, "dy"), Floats(info, heap, Int(info, 2), n, "y"), Floats(info, heap, Int(info, 3), n, "dx"),
               n);
  return info.Env().Undefined();
}

// acc[c] += row[c] for every row of dy[M,N] (rows in order: contiguous reads, vectorized over c)
HYPERLAB_SMALL_CLONES void AddRowD(const float* __restrict row, double* __restrict acc, int64_t n) {
  for (int64_t c = 0; c < n; c++) acc[c] += row[c];
}

Napi::Value LinearGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 8, "linearGrad");
  const Heap heap = GetHeap(info);
  const int64_t M = Int(info, 5), N = Int(info, 6), K = Int(info, 7);
  CheckSize(info, M, "linearGrad");
  CheckSize(info, N, "linearGrad");
  CheckSize(info, K, "linearGrad");
  CheckSize(info, M * N, "linearGrad");
  CheckSize(info, N * K, "linearGrad");
  const float* dy = Floats(info, heap, Int(info, 1), M * N, "dy");
  float* dw = OptionalFloats(info, heap, Int(info, 3), N * K, "dweight");
  float* db = OptionalFloats(info, heap, Int(info, 4), N, "dbias");
  if (dw) {
    const float* x = Floats(info, heap, Int(info, 2), M * K, "x");
    if (M == 0) std::fill(dw, dw + N * K, 0.0f);
    else Product(true, false, int(N), int(K), int(M), dy, x, dw);
  }
  if (db) {
    std::vector<double> acc(N, 0.0);
    for (int64_t m = 0; m < M; m++) AddRowD(dy + m * N, acc.data(), N);
    for (int64_t c = 0; c < N; c++) db[c] = static_cast<float>(acc[c]);
  }
  return info.Env().Undefined();
}

}  // namespace

// Binary cross-entropy on logits, as PyTorch computes it: with m = max(-x, 0),
// loss = (1 - y) x + m + log(exp(-m) + exp(-x - m))  (the last two: softplus(-x) without overflow).
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  CheckArgs(info, 6, "bceWithLogits");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  CheckSize(info, n, "bceWithLogits");
  const float* x = Floats(info, heap, Int(info, 1), n, "pred");
  const float* y = Floats(info, heap, Int(info, 2), n, "target");
  float* loss = Floats(info, heap, Int(info, 3), 1, "loss");
  double sum = 0;
  for (int64_t k = 0; k < n; k++) {
    const double v = x[k], m = std::max(-v, 0.0);
    sum += (1.0 - y[k]) * v + m + std::log(std::exp(-m) + std::exp(-v - m));
  }
  loss[0] = float(Bool(info, 5) ? sum / double(n) : sum);  // the mean of nothing is NaN, as in PyTorch
  return info.Env().Undefined();
}

// dpred = dy (sigmoid(x) - y), divided by n for the mean.
Napi::Value BceWithLogitsGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 7, "bceWithLogitsGrad");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 5);
  CheckSize(info, n, "bceWithLogitsGrad");
  const float dy = Floats(info, heap, Int(info, 1), 1, "dy")[0];
  const float* x = Floats(info, heap, Int(info, 2), n, "pred");
  const float* y = Floats(info, heap, Int(info, 3), n, "target");
  float* d = Floats(info, heap, Int(info, 4), n, "dpred");
  const double scale = Bool(info, 6) && n > 0 ? double(dy) / double(n) : double(dy);
  for (int64_t k = 0; k < n; k++) d[k] = float(scale * (1.0 / (1.0 + std::exp(-double(x[k]))) - y[k]));
  return info.Env().Undefined();
}

void RegisterSmall(Napi::Env env, Napi::Object exports) {
  exports.Set("prelu", Napi::Function::New(env, Prelu));
  exports.Set("preluGrad", Napi::Function::New(env, PreluGrad));
  exports.Set("normSum", Napi::Function::New(env, NormSum));
  exports.Set("normSumGrad", Napi::Function::New(env, NormSumGrad));
  exports.Set("mse", Napi::Function::New(env, Mse));
  exports.Set("mseGrad", Napi::Function::New(env, MseGrad));
  exports.Set("bceWithLogits", Napi::Function::New(env, BceWithLogits));
  exports.Set("bceWithLogitsGrad", Napi::Function::New(env, BceWithLogitsGrad));
  exports.Set("sgd", Napi::Function::New(env, Sgd));
  exports.Set("relu", Napi::Function::New(env, Relu));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("linearGrad", Napi::Function::New(env, LinearGrad));
}

}  // namespace hyperlab
