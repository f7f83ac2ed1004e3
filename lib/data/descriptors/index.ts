/**
 * XANESNET's structure descriptors by name, as a run file's `descriptor: {type, params}` names them.
 *
 *     const d = makeDescriptor({ type: 'wacsf', params: { r_min: 1, r_max: 6, n_g2: 16, n_g4: 32 } });
 *     d.length;   // 49
 *
 * soap, mbtr and lmbtr (dscribe in XANESNET) are not available.
 */
import { DescriptorConfig, StructureDescriptor } from './common';
import { RDC } from './rdc';
import { WACSF } from './wacsf';

export type { DescriptorConfig, StructureDescriptor } from './common';
export * from './wacsf';
export * from './rdc';

const MAKERS: Record<string, (params: Record<string, unknown>) => StructureDescriptor> = {
  wacsf: (p) => WACSF.fromParams(p),
  rdc: (p) => RDC.fromParams(p),
};

/** The descriptor types makeDescriptor knows. */
export const DESCRIPTOR_TYPES = Object.keys(MAKERS);

/** A descriptor from {type, params}; a descriptor object is returned as it is. */
export function makeDescriptor(config: DescriptorConfig | StructureDescriptor): StructureDescriptor {
  if (typeof (config as StructureDescriptor).transform === 'function') return config as StructureDescriptor;
  const { type, params = {} } = config as DescriptorConfig;
  const make = MAKERS[String(type).toLowerCase()];
  if (!make) {
    const note = ['soap', 'mbtr', 'lmbtr'].includes(String(type).toLowerCase()) ? ' (XANESNET computes it with dscribe, which hyperlab does not port)' : '';
    throw new Error(`unknown descriptor type "${type}"${note}: choose one of ${DESCRIPTOR_TYPES.join(', ')}`);
  }
  return make(params ?? {});
}
