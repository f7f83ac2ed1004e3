/**
 * RDC: the radial distribution curve around the absorber, exactly as XANESNET's
 * src/structure/rdc.py. A histogram of absorber-neighbour distances smoothed with Gaussians on
 * a real-space grid:
 *
 *   grid  r_g = linspace(r_min, r_max, int(|r_max - r_min| / dr) + 1)
 *   RDC(r_g)  = sum_j Z_0 Z_j exp(-alpha (r0j - r_g)^2)
 *
 * over the atoms j != 0 with r0j < r_max. The vector is [q][S] RDC(r_1) ... RDC(r_G).
 * Defaults: r 0-8 Å, dr 0.01 Å, alpha 10 (801 features).
 */
import type { Structure } from '../structure';
import { atomsInRange, checkFlag, checkRadii, DescriptorConfig, distance, infoPrefix, numpyLinspace, optionsFromParams, StructureDescriptor } from './common';

export interface RDCOptions {
  /** Start of the grid (Å); default 0. */
  rMin?: number;
  /** End of the grid and cutoff radius (Å); default 8. */
  rMax?: number;
  /** Grid step (Å); default 0.01. */
  dr?: number;
  /** Gaussian sharpness (Å^-2); default 10. */
  alpha?: number;
  useCharge?: boolean;
  useSpin?: boolean;
}

export const RDC_PARAM_NAMES: Record<string, keyof RDCOptions & string> = {
  r_min: 'rMin',
  r_max: 'rMax',
  dr: 'dr',
  alpha: 'alpha',
  use_charge: 'useCharge',
  use_spin: 'useSpin',
};

export class RDC implements StructureDescriptor {
  readonly type = 'rdc';
  readonly rMin: number;
  readonly rMax: number;
  readonly dr: number;
  readonly alpha: number;
  readonly useCharge: boolean;
  readonly useSpin: boolean;
  /** The radial grid r_g (Å). */
  readonly grid: Float64Array;

  constructor(opts: RDCOptions = {}) {
    this.rMin = opts.rMin ?? 0.0;
    this.rMax = opts.rMax ?? 8.0;
    this.dr = opts.dr ?? 0.01;
    this.alpha = opts.alpha ?? 10.0;
    this.useCharge = opts.useCharge ?? false;
    this.useSpin = opts.useSpin ?? false;
    checkRadii(this.rMin, this.rMax, 'RDC');
    if (!(typeof this.dr === 'number' && this.dr > 0 && this.dr <= this.rMax)) {
      throw new Error(`RDC: dr must be a number with 0 < dr <= r_max (${this.rMax}), got ${this.dr}`);
    }
    if (!(typeof this.alpha === 'number' && this.alpha > 0)) throw new Error(`RDC: alpha must be a number > 0, got ${this.alpha}`);
    checkFlag(this.useCharge, 'use_charge');
    checkFlag(this.useSpin, 'use_spin');
    this.grid = numpyLinspace(this.rMin, this.rMax, Math.trunc(Math.abs(this.rMax - this.rMin) / this.dr) + 1);
  }

  get length(): number {
    return this.grid.length + (this.useCharge ? 1 : 0) + (this.useSpin ? 1 : 0);
  }

  transform(s: Structure): Float64Array {
    const out = new Float64Array(this.length);
    const prefix = infoPrefix(s, this.useCharge, this.useSpin, 'RDC');
    out.set(prefix);
    const { z, pos } = atomsInRange(s, this.rMax);
    if (z.length < 2) {
      throw new Error(
        `RDC: ${s.source ?? 'the structure'} has no atom within r_max = ${this.rMax.toFixed(2)} Å of the absorber ` +
          `(atom 0), so the curve has no pairs; raise r_max or check the structure`,
      );
    }
    const curve = out.subarray(prefix.length);
    for (let j = 1; j < z.length; j++) {
      const r = distance(pos, 0, j);
      const zz = z[0] * z[j];
      for (let g = 0; g < curve.length; g++) curve[g] += zz * Math.exp(-this.alpha * (r - this.grid[g]) ** 2);
    }
    return out;
  }

  toConfig(): DescriptorConfig {
    return {
      type: 'rdc',
      params: { r_min: this.rMin, r_max: this.rMax, dr: this.dr, alpha: this.alpha, use_charge: this.useCharge, use_spin: this.useSpin },
    };
  }

  /** From a XANESNET params block (r_min, r_max, dr, alpha, use_charge, use_spin) or camelCase options. */
  static fromParams(params: Record<string, unknown> = {}): RDC {
    return new RDC(optionsFromParams<RDCOptions>(params, RDC_PARAM_NAMES, 'rdc descriptor'));
  }
}
