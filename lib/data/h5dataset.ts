/**
 * H5Dataset: a Dataset over row-aligned HDF5 datasets, read one row at a time.
 *
 *     const ds = await H5Dataset.open('train.h5', {x: 'descriptors', y: 'spectra'});
 *     ds.get(3);   // {x: {data: Float32Array(49), shape: [49]}, y: {...}} read from disk now
 *     ds.close();
 *
 * Every named HDF5 dataset must have the same first dimension (the sample axis);
 * item i is row i of each. Float data comes back as Float32Array, integer data
 * as Int32Array.
 */
import { Dataset, Sample, checkIndex } from './dataset';
import { H5Array, H5File } from './hdf5';

export class H5Dataset implements Dataset {
  readonly length: number;

  private constructor(
    readonly file: H5File,
    private readonly arrays: Record<string, H5Array>,
  ) {
    this.length = Object.values(arrays)[0].shape[0];
  }

  /** Open `file` and check the named datasets; `fields` maps a sample field to an HDF5 dataset name. */
  static async open(file: string, fields: Record<string, string>): Promise<H5Dataset> {
    const entries = Object.entries(fields);
    if (entries.length === 0) throw new Error(`H5Dataset.open(${file}): give at least one field, e.g. {x: 'inputs', y: 'targets'}`);
    const f = await H5File.open(file);
    try {
      const arrays: Record<string, H5Array> = {};
      for (const [field, name] of entries) {
        const a = f.dataset(name, { what: `field '${field}'` });
        if (a.shape.length === 0) throw new Error(`${f.path}: dataset '${name}' (field '${field}') is a scalar; H5Dataset needs a first (sample) axis`);
        if (a.dtype === 'other') throw new Error(`${f.path}: dataset '${name}' (field '${field}') is not numeric; H5Dataset reads integer and float data`);
        arrays[field] = a;
      }
      const [firstField, first] = Object.entries(arrays)[0];
      for (const [field, a] of Object.entries(arrays)) {
        if (a.shape[0] !== first.shape[0]) {
          throw new Error(
            `${f.path}: dataset '${a.name}' (field '${field}') has ${a.shape[0]} rows but '${first.name}' (field '${firstField}') has ${first.shape[0]}; the fields must have the same first dimension`,
          );
        }
      }
      return new H5Dataset(f, arrays);
    } catch (e) {
      f.close();
      throw e;
    }
  }

  get(index: number): Sample {
    checkIndex(index, this.length, `H5Dataset(${this.file.path}).get`);
    const out: Sample = {};
    for (const [field, a] of Object.entries(this.arrays)) out[field] = { data: a.readRows(index), shape: a.shape.slice(1) };
    return out;
  }

  close(): void {
    this.file.close();
  }
}
