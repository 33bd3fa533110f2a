import type { Transform } from 'node:stream'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'

/** The `compression` of a config: of a whole file, or (Parquet) of its pages; `snappy` is Parquet's only. */
export type Compression = 'gzip' | 'zstd' | 'snappy' | 'none'
/** Compression of a whole file (JSON Lines, raw). */
export type FileCompression = Exclude<Compression, 'snappy'>

/** Level 1: about 5x faster than zlib's default 6 for a little more size; archiving is CPU-bound. */
export const GZIP_LEVEL = 1
/** zstd's fastest regular level: still smaller than gzip at level 6, at several times its speed. */
export const ZSTD_LEVEL = 1

/** The zstd half of node:zlib (Node ≥ 22.15 and 23.8); absent from older Nodes and from @types/node 20. */
interface ZstdApi {
  zstdCompress(buffer: Buffer, options: object, callback: (error: Error | null, result: Buffer) => void): void
  zstdDecompressSync(buffer: Buffer): Buffer
  zstdCompressSync(buffer: Uint8Array, options: object): Buffer
  createZstdCompress(options: object): Transform
  constants: { ZSTD_c_compressionLevel: number }
}

function zstdApi(): ZstdApi | undefined {
  const candidate = zlib as unknown as Partial<ZstdApi>
  return typeof candidate.zstdCompress === 'function' &&
    typeof candidate.createZstdCompress === 'function' &&
    typeof candidate.zstdDecompressSync === 'function' &&
    typeof candidate.zstdCompressSync === 'function' &&
    candidate.constants !== undefined &&
    typeof candidate.constants.ZSTD_c_compressionLevel === 'number'
    ? (candidate as ZstdApi)
    : undefined
}

/**
 * Why this Node cannot write `compression`, or undefined when it can. zstd comes with node:zlib
 * from Node 22.15 (and 23.8) on; before that there is no zstd in Node at all.
 */
export function compressionProblem(
  compression: Compression,
  // null: as if this Node had no zstd (tests); an explicit `undefined` would mean the default.
  api: ZstdApi | null | undefined = zstdApi(),
): string | undefined {
  if (compression !== 'zstd' || (api !== undefined && api !== null)) return undefined
  return `zstd needs Node.js 22.15 or later (node:zlib's zstd); this node runs ${process.version}: use gzip or none, or upgrade Node`
}

function requireZstd(): ZstdApi {
  const api = zstdApi()
  if (api === undefined) throw new Error(compressionProblem('zstd', api))
  return api
}

const gzip = promisify(zlib.gzip)

/** The extension a compression adds to a file name (`.gz`, `.zst`, nothing). */
export function extensionOf(compression: FileCompression): string {
  return compression === 'gzip' ? '.gz' : compression === 'zstd' ? '.zst' : ''
}

/** The Content-Encoding of a compressed file (undefined for none). */
export function contentEncodingOf(compression: FileCompression): string | undefined {
  return compression === 'none' ? undefined : compression
}

/** Compresses a whole file; `chunkSize` is zlib's output chunk (gzip only). */
export async function compressWhole(
  plain: Buffer,
  compression: FileCompression,
  chunkSize: number,
): Promise<Buffer> {
  if (compression === 'none') return plain
  if (compression === 'gzip') return gzip(plain, { level: GZIP_LEVEL, chunkSize })
  const api = requireZstd()
  return new Promise((resolve, reject) =>
    api.zstdCompress(
      plain,
      { params: { [api.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } },
      (error, body) => (error ? reject(error) : resolve(body)),
    ),
  )
}

/** A compressing stream for a file that is compressed while it is still open. */
export function createCompressor(
  compression: Exclude<FileCompression, 'none'>,
  chunkSize: number,
): Transform {
  if (compression === 'gzip') return zlib.createGzip({ level: GZIP_LEVEL, chunkSize })
  const api = requireZstd()
  return api.createZstdCompress({
    chunkSize,
    params: { [api.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
  })
}

/** The plain bytes of a compressed file (comparing objects, tests and tools). */
export function decompress(body: Buffer, compression: FileCompression): Buffer {
  if (compression === 'none') return body
  if (compression === 'gzip') return zlib.gunzipSync(body)
  return requireZstd().zstdDecompressSync(body)
}
