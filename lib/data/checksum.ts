/**
 * CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), byte at a time: the checksum of
 * TFRecord files (lib/train/tfrecord.ts) and of the datasets hyperlab writes into HDF5 files
 * (the `hyperlab_crc32c` attribute, checked when a dataset is read whole: lib/data/hdf5.ts).
 */

/** The CRC-32C of every byte value. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C of `bytes`; crc32c("123456789") is 0xe3069283. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32C of a typed array's bytes (as stored: little-endian on every machine hyperlab runs on). */
export function checksumOf(data: ArrayBufferView): number {
  return crc32c(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
