/**
 * A molecular structure as an .xyz file holds it (read by xanes.ts, featurised by
 * descriptors/): the type both sides share.
 */
/** A molecular structure around an absorbing atom (atom 0). */
export interface Structure {
  nAtoms: number;
  /** Atomic numbers Z, one per atom. */
  numbers: number[];
  /** Cartesian coordinates in Å, row-major n x 3. */
  positions: Float64Array;
  /** The comment line as written. */
  comment: string;
  /** `k = v` pairs of the comment line (numbers where they parse), e.g. {q: 0, S: 2}; {} otherwise. */
  info: Record<string, number | string>;
  /** Where it was read from, for error messages. */
  source?: string;
}
