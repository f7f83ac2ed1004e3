"""XANESNET's Fourier transform of a spectrum, z = Re(FFT([x, reversed(x)])), and its inverse Re(IFFT(z))[:L] (numpy)."""
import numpy as np


def generate():
    rng = np.random.default_rng(0)
    x = rng.random(17)
    z = np.real(np.fft.fft(np.concatenate([x, x[::-1]])))
    back = np.real(np.fft.ifft(z))[: len(x)]
    return {"x": x.tolist(), "z": z.tolist(), "inverse": back.tolist()}
