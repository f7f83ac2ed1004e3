// hyperlab's native CPU matrix products: OpenBLAS sgemm on tensors that live in
// the tfjs wasm backend's memory.
//
// The wasm backend keeps every tensor in one WebAssembly.Memory. JavaScript
// passes that memory's ArrayBuffer and the byte offsets of the tensors
// (backend.dataIdMap.get(dataId).memoryOffset); we read and write the floats in
// place, with no copy. The caller allocates the output before taking the
// buffer, because growing wasm memory replaces the ArrayBuffer.
//
// Exports:
//   sgemm(heap, batch, M, N, K, transA, transB, aOff, aStride, bOff, bStride, cOff)
//     C[i] = op(A[i]) * op(B[i]) for i < batch, row-major; op() transposes when
//     asked. Offsets are in bytes, strides in floats between consecutive
//     matrices of the batch (0 = the same matrix for every i: broadcasting).
//   epilogue(heap, cOff, batch, M, N,
//            biasOff, biasSB, biasSM, biasSN,
//            activation, preluOff, preluSB, preluSM, preluSN, alpha)
//     C += bias, then the fused activation, in place. Bias and PReLU weights
//     are read at off + 4 * (b * SB + m * SM + n * SN) (stride 0 broadcasts);
//     an offset of -1 means "none". Activation codes follow tfjs-backend-wasm's
//     FusableActivation: 0 linear, 1 relu, 2 relu6, 3 prelu, 4 leakyrelu,
//     5 sigmoid, 6 elu.
//   info() -> { config, corename, threads }
//   setThreads(n)
// and, registered by Init below, the convolutions of conv.cc and the fused
// batch norm, LSTM and Adam kernels of fused.cc (helpers shared in common.h).
//
// Threads: OpenBLAS runs single-threaded unless OPENBLAS_NUM_THREADS (or
// OMP_NUM_THREADS) is set, like the PyTorch runs we compare with; see
// lib/engine/native/README.md.
#include <napi.h>
#include <cblas.h>

#include "common.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hyperlab {

// One product C[M,N] = op(A) op(B). OpenBLAS 0.3.21 does not route
// vector-shaped products to gemv itself, and gemv is several times faster
// for them (a 1-row batch, a layer with one output).
void Product(bool ta, bool tb, int M, int N, int K, const float* a, const float* b, float* c) {
  const int lda = ta ? M : K;  // A is stored [K, M] when transposed, else [M, K]
  const int ldb = tb ? K : N;  // B is stored [N, K] when transposed, else [K, N]
  if (M == 1) {
    // c[1,N] = a[1,K] op(B): a is contiguous either way (lda is 1 when transposed).
    if (tb) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, b, K, a, 1, 0.0f, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasTrans, K, N, 1.0f, b, N, a, 1, 0.0f, c, 1);
  } else if (N == 1) {
    // c[M,1] = op(A) b[K,1]: b is contiguous either way.
    if (ta) cblas_sgemv(CblasRowMajor, CblasTrans, K, M, 1.0f, a, M, b, 1, 0.0f, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, 1.0f, a, K, b, 1, 0.0f, c, 1);
  } else {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, a,
                lda, b, ldb, 0.0f, c, N);
  }
}

namespace {

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  if (info.Length() != 12) throw Napi::TypeError::New(info.Env(), "hyperlab native: sgemm takes 12 arguments");
  const Heap heap = GetHeap(info);
  const int64_t batch = Int(info, 1), M = Int(info, 2), N = Int(info, 3), K = Int(info, 4);
  const bool ta = Bool(info, 5), tb = Bool(info, 6);
  const int64_t aOff = Int(info, 7), aStride = Int(info, 8), bOff = Int(info, 9), bStride = Int(info, 10);
  const int64_t cOff = Int(info, 11);
  if (batch < 0 || M < 0 || N < 0 || K < 0 || aStride < 0 || bStride < 0 || M > INT32_MAX || N > INT32_MAX ||
      K > INT32_MAX) {
    throw Napi::RangeError::New(info.Env(), "hyperlab native: sgemm sizes must be non-negative 32-bit integers");
  }
  if (batch == 0 || M == 0 || N == 0) return info.Env().Undefined();
  float* c = Floats(info, heap, cOff, batch * M * N, "C");
  if (K == 0) {  // an empty sum: C is all zeros
    std::memset(c, 0, sizeof(float) * batch * M * N);
    return info.Env().Undefined();
  }
  const float* a = Floats(info, heap, aOff, (batch - 1) * aStride + M * K, "A");
  const float* b = Floats(info, heap, bOff, (batch - 1) * bStride + K * N, "B");
  for (int64_t i = 0; i < batch; i++) {
    Product(ta, tb, int(M), int(N), int(K), a + i * aStride, b + i * bStride, c + i * M * N);
  }
  return info.Env().Undefined();
}

// tfjs-backend-wasm's FusableActivation codes.
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4, kSigmoid = 5, kElu = 6 };

Napi::Value Epilogue(const Napi::CallbackInfo& info) {
  if (info.Length() != 15) throw Napi::TypeError::New(info.Env(), "hyperlab native: epilogue takes 15 arguments");
  const Heap heap = GetHeap(info);
  const int64_t cOff = Int(info, 1), batch = Int(info, 2), M = Int(info, 3), N = Int(info, 4);
  const int64_t biasOff = Int(info, 5), bSB = Int(info, 6), bSM = Int(info, 7), bSN = Int(info, 8);
  const int64_t act = Int(info, 9);
  const int64_t pOff = Int(info, 10), pSB = Int(info, 11), pSM = Int(info, 12), pSN = Int(info, 13);
  const float alpha = static_cast<float>(info[14].As<Napi::Number>().DoubleValue());
  if (batch <= 0 || M <= 0 || N <= 0) return info.Env().Undefined();
  if (act < kLinear || act > kElu) throw Napi::RangeError::New(info.Env(), "hyperlab native: unknown activation code");
  float* c = Floats(info, heap, cOff, batch * M * N, "C");
  const float* bias = biasOff < 0 ? nullptr
                                  : Floats(info, heap, biasOff, (batch - 1) * bSB + (M - 1) * bSM + (N - 1) * bSN + 1, "bias");
  const float* prelu = pOff < 0 ? nullptr
                                : Floats(info, heap, pOff, (batch - 1) * pSB + (M - 1) * pSM + (N - 1) * pSN + 1, "prelu");
  if (act == kPrelu && !prelu) throw Napi::TypeError::New(info.Env(), "hyperlab native: prelu needs its weights");
  for (int64_t i = 0; i < batch; i++) {
    for (int64_t m = 0; m < M; m++) {
      float* row = c + (i * M + m) * N;
      if (bias) {
        const float* br = bias + i * bSB + m * bSM;
        for (int64_t n = 0; n < N; n++) row[n] += br[n * bSN];
      }
      switch (act) {
        case kLinear: break;
        case kRelu: for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? 0 : row[n]; break;
        case kRelu6: for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? 0 : (row[n] > 6 ? 6 : row[n]); break;
        case kPrelu: {
          const float* pr = prelu + i * pSB + m * pSM;
          for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? pr[n * pSN] * row[n] : row[n];
          break;
        }
        case kLeakyRelu: for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? alpha * row[n] : row[n]; break;
        case kSigmoid: for (int64_t n = 0; n < N; n++) row[n] = 1.0f / (1.0f + std::exp(-row[n])); break;
        case kElu: for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? std::expm1(row[n]) : row[n]; break;
      }
    }
  }
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("config", std::string(openblas_get_config()));
  o.Set("corename", std::string(openblas_get_corename()));
  o.Set("threads", openblas_get_num_threads());
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int64_t n = Int(info, 0);
  if (n < 1) throw Napi::RangeError::New(info.Env(), "hyperlab native: setThreads needs n >= 1");
  openblas_set_num_threads(int(n));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // One thread unless the user asked OpenBLAS for more (see the header comment).
  if (!std::getenv("OPENBLAS_NUM_THREADS") && !std::getenv("OMP_NUM_THREADS")) openblas_set_num_threads(1);
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("epilogue", Napi::Function::New(env, Epilogue));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  RegisterConv(env, exports);
  RegisterFused(env, exports);
  RegisterSmall(env, exports);
  return exports;
}

}  // namespace
}  // namespace hyperlab

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return hyperlab::Init(env, exports); }

NODE_API_MODULE(hyperlab_native, InitAddon)
