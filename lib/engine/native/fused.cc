// Fused kernels for what costs tfjs many small operations: batch norm in
// training (forward and backward), a whole LSTM layer direction over a sequence
// (forward and backpropagation through time), the Adam update, cross-entropy
// on class indices, and LeakyReLU (whose tfjs gradient is three slow
// broadcasting kernels on wasm). The mathematics is written out in
// lib/nn/batchnorm.ts, lib/nn/lstm.ts, lib/optim/adam.ts,
// lib/losses/crossentropy.ts and lib/nn/activations.ts; these compute the same
// thing in one call each.
//
// Exports (offsets in bytes into the heap, -1 = none / zeros):
//   batchNormTrain(heap, xOff, wOff, bOff, yOff, meanOff, varOff, N, C, S, eps)
//     x [N, C, S]: per channel c, mean and biased variance over n and s, then
//     y = (x - mean) / sqrt(var + eps) * w[c] + b[c]   (w, b: none = 1, 0).
//   batchNormTrainGrad(heap, dyOff, xOff, meanOff, varOff, wOff, dxOff, dwOff, dbOff, N, C, S, eps)
//     with xhat = (x - mean) / sqrt(var + eps) and m = N*S values per channel:
//     db = sum dy, dw = sum dy * xhat, dx = w / sqrt(var + eps) * (dy - db/m - xhat * dw/m).
//   batchNormRunningStats(heap, rmOff, rvOff, meanOff, varOff, rmOut, rvOut, C, momentum, unbias)
//     running = (1 - momentum) * running + momentum * batch, with var * unbias (n / (n - 1)) for the variance.
//   lstmForward(heap, projOff, whhOff, bihOff, bhhOff, h0Off, c0Off, outOff, hNOff, cNOff, gatesOff, cellsOff,
//               L, N, H, reverse)
//     proj [L, N, 4H] = x_t W_ih^T for every t; w_hh [4H, H]; b_ih, b_hh [4H] (or none); h0, c0 [N, H].
//     Per step (t = 0..L-1, or L-1..0 if reverse): gates = proj[t] + b_ih + b_hh + h W_hh^T,
//     i f g o = sigmoid, sigmoid, tanh, sigmoid of the four H-wide parts,
//     c = f * c + i * g, h = o * tanh(c). Writes out [L, N, H] (h of every t),
//     hN, cN [N, H], and for the backward pass the activated gates [L, N, 4H]
//     and cells [L, N, H].
//   lstmBackward(heap, dOutOff, dhNOff, dcNOff, gatesOff, cellsOff, outOff, h0Off, c0Off, whhOff,
//                dprojOff, dwhhOff, dbOff, dh0Off, dc0Off, L, N, H, reverse)
//     Backpropagation through time: gradients of proj (the gates before their
//     activations), w_hh, the biases (db, the same for b_ih and b_hh), h0 and c0
//     from those of out, hN and cN.
//   adam(heap, pOff, gOff, mOff, vOff, vmaxOff, pOut, mOut, vOut, vmaxOut, size,
//        lr, beta1, beta2, eps, weightDecay, step, flags)
//     One Adam/AdamW step of one parameter (torch.optim.Adam's order of
//     operations); flags: 1 decoupled weight decay (AdamW), 2 amsgrad, 4 maximize.
//   crossEntropy(heap, logitsOff, targetOff, lossOff, probsOff, M, C, mean)
//     logits [M, C], target [M] class indices (as floats): loss = sum_m (logsumexp(logits[m]) - logits[m, t_m]),
//     divided by M if mean; probs = softmax(logits) for the backward pass.
//   crossEntropyGrad(heap, dyOff, probsOff, targetOff, dxOff, M, C, mean)
//     dx = dy * (probs - onehot(target)), divided by M if mean.
//   leakyRelu(heap, xOff, yOff, n, alpha)            y = x > 0 ? x : alpha * x
//   leakyReluGrad(heap, dyOff, xOff, dxOff, n, alpha) dx = x > 0 ? dy : alpha * dy
#include <napi.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"

namespace hyperlab {
namespace {

void CheckSizes(const Napi::CallbackInfo& info, std::initializer_list<int64_t> sizes, const char* name) {
  for (int64_t s : sizes) {
    if (s < 0 || s > INT32_MAX) throw Napi::RangeError::New(info.Env(), std::string("hyperlab native: invalid sizes for ") + name);
  }
}

// ---- batch norm ------------------------------------------------------------------------

Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  CheckArgs(info, 11, "batchNormTrain");
  const Heap heap = GetHeap(info);
  const int64_t N = Int(info, 7), C = Int(info, 8), S = Int(info, 9);
  const double eps = Num(info, 10);
  CheckSizes(info, {N, C, S}, "batchNormTrain");
  const float* x = Floats(info, heap, Int(info, 1), N * C * S, "x");
  const float* w = OptionalFloats(info, heap, Int(info, 2), C, "weight");
  const float* b = OptionalFloats(info, heap, Int(info, 3), C, "bias");
  float* y = Floats(info, heap, Int(info, 4), N * C * S, "y");
  float* mean = Floats(info, heap, Int(info, 5), C, "mean");
  float* var = Floats(info, heap, Int(info, 6), C, "var");
  const double m = double(N * S);
  for (int64_t c = 0; c < C; c++) {
    // two passes (mean, then squared deviations from it): no cancellation
    double sum = 0;
    for (int64_t n = 0; n < N; n++) sum += SumRow(x + (n * C + c) * S, S);
    const double mu = sum / m;
    double sq = 0;
    for (int64_t n = 0; n < N; n++) sq += SumSquaredDeviations(x + (n * C + c) * S, S, float(mu));
    const double v = sq / m;
    mean[c] = float(mu);
    var[c] = float(v);
    const double scale = (w ? w[c] : 1.0) / std::sqrt(v + eps);
    const float fs = float(scale), fb = float((b ? b[c] : 0.0) - mu * scale);
    for (int64_t n = 0; n < N; n++) {
      const float* r = x + (n * C + c) * S;
      float* o = y + (n * C + c) * S;
      for (int64_t s = 0; s < S; s++) o[s] = r[s] * fs + fb;
    }
  }
  return info.Env().Undefined();
}

Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 13, "batchNormTrainGrad");
  const Heap heap = GetHeap(info);
  const int64_t N = Int(info, 9), C = Int(info, 10), S = Int(info, 11);
  const double eps = Num(info, 12);
  CheckSizes(info, {N, C, S}, "batchNormTrainGrad");
  const float* dy = Floats(info, heap, Int(info, 1), N * C * S, "dy");
  const float* x = Floats(info, heap, Int(info, 2), N * C * S, "x");
  const float* mean = Floats(info, heap, Int(info, 3), C, "mean");
  const float* var = Floats(info, heap, Int(info, 4), C, "var");
  const float* w = OptionalFloats(info, heap, Int(info, 5), C, "weight");
  float* dx = Floats(info, heap, Int(info, 6), N * C * S, "dx");
  float* dw = Floats(info, heap, Int(info, 7), C, "dweight");
  float* db = Floats(info, heap, Int(info, 8), C, "dbias");
  const double m = double(N * S);
  for (int64_t c = 0; c < C; c++) {
    const double mu = mean[c], istd = 1.0 / std::sqrt(double(var[c]) + eps);
    double sumDy = 0, sumDyX = 0;  // sum dy, sum dy * (x - mean)
    for (int64_t n = 0; n < N; n++) {
      sumDy += SumRow(dy + (n * C + c) * S, S);
      sumDyX += DotDeviations(dy + (n * C + c) * S, x + (n * C + c) * S, S, float(mu));
    }
    const double dWeight = sumDyX * istd;  // sum dy * xhat
    db[c] = float(sumDy);
    dw[c] = float(dWeight);
    // dx = k * (dy - sumDy/m - (x - mean) * istd^2 * sumDyX/m), k = w * istd
    const double k = (w ? w[c] : 1.0) * istd;
    const float a = float(k), shift = float(-k * sumDy / m), slope = float(-k * istd * istd * sumDyX / m);
    const float fmu = float(mu);
    for (int64_t n = 0; n < N; n++) {
      const float* g = dy + (n * C + c) * S;
      const float* r = x + (n * C + c) * S;
      float* o = dx + (n * C + c) * S;
      for (int64_t s = 0; s < S; s++) o[s] = a * g[s] + shift + slope * (r[s] - fmu);
    }
  }
  return info.Env().Undefined();
}

Napi::Value BatchNormRunningStats(const Napi::CallbackInfo& info) {
  CheckArgs(info, 10, "batchNormRunningStats");
  const Heap heap = GetHeap(info);
  const int64_t C = Int(info, 7);
  const double momentum = Num(info, 8), unbias = Num(info, 9);
  CheckSizes(info, {C}, "batchNormRunningStats");
  const float* runningMean = Floats(info, heap, Int(info, 1), C, "running_mean");
  const float* runningVar = Floats(info, heap, Int(info, 2), C, "running_var");
  const float* mean = Floats(info, heap, Int(info, 3), C, "mean");
  const float* var = Floats(info, heap, Int(info, 4), C, "var");
  float* meanOut = Floats(info, heap, Int(info, 5), C, "running_mean out");
  float* varOut = Floats(info, heap, Int(info, 6), C, "running_var out");
  for (int64_t c = 0; c < C; c++) {
    meanOut[c] = float((1 - momentum) * runningMean[c] + momentum * mean[c]);
    varOut[c] = float((1 - momentum) * runningVar[c] + momentum * unbias * var[c]);
  }
  return info.Env().Undefined();
}

// ---- LSTM ------------------------------------------------------------------------------

// exp, sigmoid and tanh over arrays, in a form the compiler vectorizes (std::exp
// does not): Cephes' expf (range reduction to [-ln2/2, ln2/2], degree-6
// polynomial, scaling by 2^n through the exponent bits), within 2 ulp of expf.
// Compiled twice, for AVX2+FMA and for any x86-64, the right one picked at load.
#if defined(__x86_64__) && defined(__GNUC__)
#define HYPERLAB_VECTOR_CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define HYPERLAB_VECTOR_CLONES
#endif

// exp(x) for x in [-87, 88] (callers clamp first: in a separate loop, because
// the clamp in the same loop stops gcc from vectorizing it).
__attribute__((always_inline)) inline float ExpApprox(float x) {
  // round to the nearest integer by adding and removing 1.5 * 2^23 (vectorizes, unlike std::floor without SSE4.1)
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

// out[k] = min(max(scale * v[k], -87), 88): the argument of ExpApprox
HYPERLAB_VECTOR_CLONES void ScaleClamp(const float* v, float* out, int64_t n, float scale) {
  for (int64_t k = 0; k < n; k++) {
    const float x = scale * v[k];
    out[k] = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  }
}

// v[k] = sigmoid(v[k]) = 1 / (1 + exp(-v))
HYPERLAB_VECTOR_CLONES void SigmoidInPlace(float* v, int64_t n) {
  ScaleClamp(v, v, n, -1.0f);
  for (int64_t k = 0; k < n; k++) v[k] = 1.0f / (1.0f + ExpApprox(v[k]));
}

// out[k] = tanh(v[k]) = 1 - 2 / (exp(2v) + 1)  (may be in place)
HYPERLAB_VECTOR_CLONES void Tanh(const float* v, float* out, int64_t n) {
  ScaleClamp(v, out, n, 2.0f);
  for (int64_t k = 0; k < n; k++) out[k] = 1.0f - 2.0f / (ExpApprox(out[k]) + 1.0f);
}

Napi::Value LstmForward(const Napi::CallbackInfo& info) {
  CheckArgs(info, 16, "lstmForward");
  const Heap heap = GetHeap(info);
  const int64_t L = Int(info, 12), N = Int(info, 13), H = Int(info, 14);
  const bool reverse = Bool(info, 15);
  CheckSizes(info, {L, N, H, 4 * H}, "lstmForward");
  const int64_t NH = N * H, G4 = 4 * H;
  const float* proj = Floats(info, heap, Int(info, 1), L * N * G4, "proj");
  const float* whh = Floats(info, heap, Int(info, 2), G4 * H, "w_hh");
  const float* bih = OptionalFloats(info, heap, Int(info, 3), G4, "b_ih");
  const float* bhh = OptionalFloats(info, heap, Int(info, 4), G4, "b_hh");
  const float* h0 = Floats(info, heap, Int(info, 5), NH, "h0");
  const float* c0 = Floats(info, heap, Int(info, 6), NH, "c0");
  float* out = Floats(info, heap, Int(info, 7), L * NH, "out");
  float* hN = Floats(info, heap, Int(info, 8), NH, "hN");
  float* cN = Floats(info, heap, Int(info, 9), NH, "cN");
  float* gates = Floats(info, heap, Int(info, 10), L * N * G4, "gates");
  float* cells = Floats(info, heap, Int(info, 11), L * NH, "cells");
  std::vector<float> bias(G4, 0.0f);  // b_ih + b_hh
  for (int64_t k = 0; k < G4; k++) bias[k] = (bih ? bih[k] : 0.0f) + (bhh ? bhh[k] : 0.0f);
  if (L == 0 || N == 0 || H == 0) return info.Env().Undefined();
  const float* h = h0;
  const float* c = c0;
  for (int64_t s = 0; s < L; s++) {
    const int64_t t = reverse ? L - 1 - s : s;
    float* gt = gates + t * N * G4;
    const float* pt = proj + t * N * G4;
    for (int64_t n = 0; n < N; n++)
      for (int64_t k = 0; k < G4; k++) gt[n * G4 + k] = pt[n * G4 + k] + bias[k];
    // gates += h W_hh^T: [N, H] x [H, 4H]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(N), int(G4), int(H), 1.0f, h, int(H), whh, int(H), 1.0f, gt,
                int(G4));
    float* ct = cells + t * NH;
    float* ht = out + t * NH;
    for (int64_t n = 0; n < N; n++) {
      float* row = gt + n * G4;
      SigmoidInPlace(row, 2 * H);    // i, f
      Tanh(row + 2 * H, row + 2 * H, H);  // g
      SigmoidInPlace(row + 3 * H, H);  // o
      const float* cp = c + n * H;
      for (int64_t k = 0; k < H; k++) ct[n * H + k] = row[H + k] * cp[k] + row[k] * row[2 * H + k];
    }
    Tanh(ct, ht, NH);
    for (int64_t n = 0; n < N; n++) {
      const float* o = gt + n * G4 + 3 * H;
      for (int64_t k = 0; k < H; k++) ht[n * H + k] *= o[k];
    }
    h = ht;
    c = ct;
  }
  std::memcpy(hN, h, sizeof(float) * NH);
  std::memcpy(cN, c, sizeof(float) * NH);
  return info.Env().Undefined();
}

// One example's step backwards: from the gates g4 = [i f g o] (activated), the
// cell before (cp), tanh of this cell (tc) and the gradients dh of h and dc of c,
// the gradients of the four gates before activation (d4), and dc becomes that
// of the cell before.
HYPERLAB_VECTOR_CLONES void LstmCellBackward(const float* __restrict g4, const float* __restrict cp,
                                             const float* __restrict tc, const float* __restrict dh,
                                             float* __restrict dc, float* __restrict d4, int64_t H) {
  const float* __restrict gi = g4;
  const float* __restrict gf = g4 + H;
  const float* __restrict gg = g4 + 2 * H;
  const float* __restrict go = g4 + 3 * H;
  float* __restrict di = d4;
  float* __restrict df = d4 + H;
  float* __restrict dg = d4 + 2 * H;
  float* __restrict dout = d4 + 3 * H;
  for (int64_t k = 0; k < H; k++) {
    const float i = gi[k], f = gf[k], g = gg[k], o = go[k], t = tc[k], d = dh[k];
    const float dcv = dc[k] + d * o * (1.0f - t * t);
    di[k] = dcv * g * i * (1.0f - i);      // d i (before the sigmoid)
    df[k] = dcv * cp[k] * f * (1.0f - f);  // d f
    dg[k] = dcv * i * (1.0f - g * g);      // d g (before the tanh)
    dout[k] = d * t * o * (1.0f - o);      // d o
    dc[k] = dcv * f;                       // into the cell before
  }
}

Napi::Value LstmBackward(const Napi::CallbackInfo& info) {
  CheckArgs(info, 19, "lstmBackward");
  const Heap heap = GetHeap(info);
  const int64_t L = Int(info, 15), N = Int(info, 16), H = Int(info, 17);
  const bool reverse = Bool(info, 18);
  CheckSizes(info, {L, N, H, 4 * H}, "lstmBackward");
  const int64_t NH = N * H, G4 = 4 * H;
  const float* dOut = OptionalFloats(info, heap, Int(info, 1), L * NH, "dOut");
  const float* dhN = OptionalFloats(info, heap, Int(info, 2), NH, "dhN");
  const float* dcN = OptionalFloats(info, heap, Int(info, 3), NH, "dcN");
  const float* gates = Floats(info, heap, Int(info, 4), L * N * G4, "gates");
  const float* cells = Floats(info, heap, Int(info, 5), L * NH, "cells");
  const float* out = Floats(info, heap, Int(info, 6), L * NH, "out");
  const float* h0 = Floats(info, heap, Int(info, 7), NH, "h0");
  const float* c0 = Floats(info, heap, Int(info, 8), NH, "c0");
  const float* whh = Floats(info, heap, Int(info, 9), G4 * H, "w_hh");
  float* dproj = Floats(info, heap, Int(info, 10), L * N * G4, "dproj");
  float* dwhh = Floats(info, heap, Int(info, 11), G4 * H, "dw_hh");
  float* db = OptionalFloats(info, heap, Int(info, 12), G4, "dbias");
  float* dh0 = Floats(info, heap, Int(info, 13), NH, "dh0");
  float* dc0 = Floats(info, heap, Int(info, 14), NH, "dc0");
  // dh, dc: the gradients flowing into the current step's h and c from later steps
  std::vector<float> dh(NH, 0.0f), dc(NH, 0.0f), tanhC(NH);
  if (dhN) std::memcpy(dh.data(), dhN, sizeof(float) * NH);
  if (dcN) std::memcpy(dc.data(), dcN, sizeof(float) * NH);
  for (int64_t s = L - 1; s >= 0; s--) {
    const int64_t t = reverse ? L - 1 - s : s;
    const int64_t prev = reverse ? t + 1 : t - 1;  // the step before t in processing order (s > 0)
    const float* gt = gates + t * N * G4;
    const float* ct = cells + t * NH;
    const float* cp = s > 0 ? cells + prev * NH : c0;
    float* dg = dproj + t * N * G4;
    Tanh(ct, tanhC.data(), NH);
    if (dOut) {
      const float* d = dOut + t * NH;
      for (int64_t j = 0; j < NH; j++) dh[j] += d[j];
    }
    for (int64_t n = 0; n < N; n++) {
      const int64_t j = n * H;
      LstmCellBackward(gt + n * G4, cp + j, tanhC.data() + j, dh.data() + j, dc.data() + j, dg + n * G4, H);
    }
    // into h of the step before: dh = dgates [N, 4H] x W_hh [4H, H]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(N), int(H), int(G4), 1.0f, dg, int(G4), whh, int(H), 0.0f,
                dh.data(), int(H));
  }
  std::memcpy(dh0, dh.data(), sizeof(float) * NH);
  std::memcpy(dc0, dc.data(), sizeof(float) * NH);
  // dW_hh = sum_t dgates[t]^T h_before(t): h_before is out of the step before, h0 for the first step.
  // Forward: steps 1..L-1 read out[0..L-2]; reverse: steps 0..L-2 read out[1..L-1].
  const int64_t first = reverse ? L - 1 : 0;  // the step that read h0
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G4), int(H), int(N), 1.0f, dproj + first * N * G4, int(G4), h0,
              int(H), 0.0f, dwhh, int(H));
  if (L > 1) {
    const float* dgRest = dproj + (reverse ? 0 : N * G4);
    const float* hRest = out + (reverse ? NH : 0);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(G4), int(H), int((L - 1) * N), 1.0f, dgRest, int(G4), hRest,
                int(H), 1.0f, dwhh, int(H));
  }
  if (db) {
    // the bias gradient: dproj summed over steps and batch
    std::vector<double> acc(G4, 0.0);
    for (int64_t r = 0; r < L * N; r++)
      for (int64_t k = 0; k < G4; k++) acc[k] += dproj[r * G4 + k];
    for (int64_t k = 0; k < G4; k++) db[k] = float(acc[k]);
  }
  return info.Env().Undefined();
}

// ---- Adam ------------------------------------------------------------------------------

// The update loop, specialised on the options so that it has no branches and vectorizes.
template <bool kL2, bool kAmsgrad>
// Not __restrict: the update in place (lib/engine/native/adam.ts) passes pOut == p, mOut == m0, vOut == v0 and
// vmaxOut == vmax0; each element is read before it is written, so that is safe, and the compiler vectorizes
// behind a runtime overlap check.
HYPERLAB_VECTOR_CLONES void AdamLoop(const float* p, const float* __restrict g, const float* m0, const float* v0,
                                     const float* vmax0, float* pOut, float* mOut, float* vOut, float* vmaxOut, int64_t size,
                                     float gsign, float decay, float wd, float b1, float b2, float c1, float c2,
                                     float stepSize, float sqrtBc2, float eps) {
  for (int64_t k = 0; k < size; k++) {
    float gk = g[k] * gsign;                  // -g when maximizing
    if (kL2) gk = gk + p[k] * wd;             // Adam: L2 penalty in the gradient
    const float theta = p[k] * decay;         // AdamW: decoupled decay (decay = 1 otherwise)
    const float m = m0[k] * b1 + gk * c1;
    const float v = v0[k] * b2 + gk * c2 * gk;
    float second = v;
    if (kAmsgrad) {
      second = vmax0[k] > v ? vmax0[k] : v;
      vmaxOut[k] = second;
    }
    const float denom = std::sqrt(second) / sqrtBc2 + eps;
    pOut[k] = theta + (m * -stepSize) / denom;
    mOut[k] = m;
    vOut[k] = v;
  }
}

Napi::Value Adam(const Napi::CallbackInfo& info) {
  CheckArgs(info, 18, "adam");
  const Heap heap = GetHeap(info);
  const int64_t size = Int(info, 10);
  CheckSizes(info, {size}, "adam");
  const float* p = Floats(info, heap, Int(info, 1), size, "param");
  const float* g = Floats(info, heap, Int(info, 2), size, "grad");
  const float* m0 = OptionalFloats(info, heap, Int(info, 3), size, "exp_avg");
  const float* v0 = OptionalFloats(info, heap, Int(info, 4), size, "exp_avg_sq");
  const float* vmax0 = OptionalFloats(info, heap, Int(info, 5), size, "max_exp_avg_sq");
  float* pOut = Floats(info, heap, Int(info, 6), size, "param out");
  float* mOut = Floats(info, heap, Int(info, 7), size, "exp_avg out");
  float* vOut = Floats(info, heap, Int(info, 8), size, "exp_avg_sq out");
  float* vmaxOut = OptionalFloats(info, heap, Int(info, 9), size, "max_exp_avg_sq out");
  const double lr = Num(info, 11), beta1 = Num(info, 12), beta2 = Num(info, 13), eps = Num(info, 14), wd = Num(info, 15);
  const double step = Num(info, 16);
  const int64_t flags = Int(info, 17);
  const bool decoupled = flags & 1, amsgrad = flags & 2, maximize = flags & 4;
  if (amsgrad && !vmaxOut) throw Napi::TypeError::New(info.Env(), "hyperlab native: adam with amsgrad needs max_exp_avg_sq out");
  // absent state (the first step) reads as zeros
  std::vector<float> zeros((!m0 || !v0 || (amsgrad && !vmax0)) ? size : 0, 0.0f);
  if (!m0) m0 = zeros.data();
  if (!v0) v0 = zeros.data();
  if (amsgrad && !vmax0) vmax0 = zeros.data();
  const float gsign = maximize ? -1.0f : 1.0f;
  const float decay = decoupled ? float(1 - lr * wd) : 1.0f;
  const float b1 = float(beta1), b2 = float(beta2), c1 = float(1 - beta1), c2 = float(1 - beta2);
  const float stepSize = float(lr / (1 - std::pow(beta1, step)));
  const float sqrtBc2 = float(std::sqrt(1 - std::pow(beta2, step)));
  const bool l2 = !decoupled && wd != 0;
  const auto loop = l2 ? (amsgrad ? AdamLoop<true, true> : AdamLoop<true, false>)
                       : (amsgrad ? AdamLoop<false, true> : AdamLoop<false, false>);
  loop(p, g, m0, v0, vmax0, pOut, mOut, vOut, vmaxOut, size, gsign, decay, float(wd), b1, b2, c1, c2, stepSize, sqrtBc2,
       float(eps));
  return info.Env().Undefined();
}

// ---- cross-entropy on class indices --------------------------------------------------------

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  CheckArgs(info, 8, "crossEntropy");
  const Heap heap = GetHeap(info);
  const int64_t M = Int(info, 5), C = Int(info, 6);
  const bool mean = Bool(info, 7);
  CheckSizes(info, {M, C}, "crossEntropy");
  const float* logits = Floats(info, heap, Int(info, 1), M * C, "logits");
  const float* target = Floats(info, heap, Int(info, 2), M, "target");
  float* loss = Floats(info, heap, Int(info, 3), 1, "loss");
  float* probs = Floats(info, heap, Int(info, 4), M * C, "probs");
  double total = 0;
  for (int64_t m = 0; m < M; m++) {
    const float* x = logits + m * C;
    float* p = probs + m * C;
    const int64_t t = static_cast<int64_t>(target[m]);
    if (!(t >= 0 && t < C) || float(t) != target[m]) {
      throw Napi::RangeError::New(info.Env(), "hyperlab native: crossEntropy target " + std::to_string(target[m]) + " is not a class index");
    }
    float mx = x[0];
    for (int64_t c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
    double sum = 0;
    for (int64_t c = 0; c < C; c++) {
      p[c] = std::exp(x[c] - mx);
      sum += p[c];
    }
    const float inv = float(1.0 / sum);
    for (int64_t c = 0; c < C; c++) p[c] *= inv;
    total += (double(mx) + std::log(sum)) - double(x[t]);  // -log softmax(x)[t]
  }
  loss[0] = float(mean ? total / double(M) : total);
  return info.Env().Undefined();
}

Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 8, "crossEntropyGrad");
  const Heap heap = GetHeap(info);
  const int64_t M = Int(info, 5), C = Int(info, 6);
  const bool mean = Bool(info, 7);
  CheckSizes(info, {M, C}, "crossEntropyGrad");
  const float* dy = Floats(info, heap, Int(info, 1), 1, "dy");
  const float* probs = Floats(info, heap, Int(info, 2), M * C, "probs");
  const float* target = Floats(info, heap, Int(info, 3), M, "target");
  float* dx = Floats(info, heap, Int(info, 4), M * C, "dx");
  const float scale = mean ? float(double(dy[0]) / double(M)) : dy[0];
  for (int64_t m = 0; m < M; m++) {
    const float* p = probs + m * C;
    float* d = dx + m * C;
    for (int64_t c = 0; c < C; c++) d[c] = p[c] * scale;
    d[static_cast<int64_t>(target[m])] -= scale;
  }
  return info.Env().Undefined();
}

// ---- LeakyReLU ---------------------------------------------------------------------------

HYPERLAB_VECTOR_CLONES void LeakyReluLoop(const float* __restrict x, float* __restrict y, int64_t n, float alpha) {
  // the positive part plus alpha times the rest (NaN stays NaN): the same values as x > 0 ? x : alpha * x,
  // in a form gcc vectorizes (it keeps a branch for that one, and for x * (x > 0 ? 1 : alpha))
  for (int64_t k = 0; k < n; k++) {
    const float v = x[k];
    y[k] = (v > 0.0f ? v : 0.0f) + alpha * (v > 0.0f ? 0.0f : v);
  }
}

HYPERLAB_VECTOR_CLONES void LeakyReluGradLoop(const float* __restrict dy, const float* __restrict x, float* __restrict dx,
                                              int64_t n, float alpha) {
  for (int64_t k = 0; k < n; k++) {
    const float d = dy[k];
    const bool pos = x[k] > 0.0f;
    dx[k] = (pos ? d : 0.0f) + alpha * (pos ? 0.0f : d);
  }
}

Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  CheckArgs(info, 5, "leakyRelu");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 3);
  if (n < 0) throw Napi::RangeError::New(info.Env(), "hyperlab native: leakyRelu size");
  const float* x = Floats(info, heap, Int(info, 1), n, "x");
  float* y = Floats(info, heap, Int(info, 2), n, "y");
  LeakyReluLoop(x, y, n, float(Num(info, 4)));
  return info.Env().Undefined();
}

Napi::Value LeakyReluGrad(const Napi::CallbackInfo& info) {
  CheckArgs(info, 6, "leakyReluGrad");
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  if (n < 0) throw Napi::RangeError::New(info.Env(), "hyperlab native: leakyReluGrad size");
  const float* dy = Floats(info, heap, Int(info, 1), n, "dy");
  const float* x = Floats(info, heap, Int(info, 2), n, "x");
  float* dx = Floats(info, heap, Int(info, 3), n, "dx");
  LeakyReluGradLoop(dy, x, dx, n, float(Num(info, 5)));
  return info.Env().Undefined();
}

}  // namespace

void RegisterFused(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("batchNormRunningStats", Napi::Function::New(env, BatchNormRunningStats));
  exports.Set("lstmForward", Napi::Function::New(env, LstmForward));
  exports.Set("lstmBackward", Napi::Function::New(env, LstmBackward));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("crossEntropyGrad", Napi::Function::New(env, CrossEntropyGrad));
  exports.Set("leakyRelu", Napi::Function::New(env, LeakyRelu));
  exports.Set("leakyReluGrad", Napi::Function::New(env, LeakyReluGrad));
}

}  // namespace hyperlab
