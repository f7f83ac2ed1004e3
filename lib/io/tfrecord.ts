/**
 * TFRecord framing, the container of TensorBoard event files.
 *
 * Each record is
 *
 *     uint64 LE   length of the data
 *     uint32 LE   masked CRC-32C of those 8 length bytes
 *     bytes       the data (here: one serialized Event protobuf)
 *     uint32 LE   masked CRC-32C of the data
 *
 * CRC-32C is the Castagnoli polynomial (reflected 0x82F63B78). TensorFlow "masks" it, so that a
 * CRC stored inside checksummed data does not checksum to a fixed value:
 * masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32.
 */

/** The CRC-32C of every byte value, for the byte-at-a-time algorithm. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli) of `bytes`; crc32c("123456789") is 0xe3069283. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TensorFlow's masked CRC-32C. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One record framed for a TFRecord file. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/**
 * The records of a TFRecord file's bytes, each checked against its two CRCs. A record cut short at
 * the end (a writer still running, or killed mid-write) is left out, as TensorBoard does; a CRC
 * mismatch is an error naming `where` and the byte offset.
 */
export function readRecords(bytes: Uint8Array, where = 'TFRecord data'): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  while (at + 12 <= bytes.length) {
    const length = view.getBigUint64(at, true);
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes.subarray(at, at + 8))) {
      throw new Error(`${where}: the length of the record at byte ${at} fails its CRC check: the file is corrupt from there on`);
    }
    const end = at + 12 + Number(length) + 4;
    if (end > bytes.length) break; // incomplete last record
    const data = bytes.subarray(at + 12, end - 4);
    if (view.getUint32(end - 4, true) !== maskedCrc32c(data)) {
      throw new Error(`${where}: the data of the record at byte ${at} (${length} bytes) fails its CRC check: the record is corrupt`);
    }
    records.push(data);
    at = end;
  }
  return records;
}
