/**
 * Buffers large response bodies are read into, reused once their page is stored. A page of 200
 * sandbox invoices is ~0.85 MB; joined into a new buffer, its memory came fresh from the system
 * for every page and faulted in at ~12 µs a 4 KB page: 2.5 ms a page, against 0.04 ms copied into
 * a buffer used before (side by side here). At 300 ms a page the worker's thread spent ~7 % of its
 * time there, and a thread that busy delays every response, reservation and timer behind it.
 *
 * A body's records keep views of its buffer (their JSON texts, see json-source), so a buffer is
 * reused only when the one reader that stored its page says so (`releasePageBuffer`); a body
 * nobody releases is left to the garbage collector, as before. Releasing detaches the buffer from
 * every view of it (`ArrayBuffer.prototype.transfer`): a view used after its page was released
 * reads as empty, never as another page's bytes.
 */

/** Bodies smaller than this are joined as before: a count's answer would waste a spare. */
export const pooledBodyBytes = 64 * 1024;

const spares: ArrayBuffer[] = [];
/** Buffers handed out and not yet released: only those are ever taken back. */
const taken = new WeakSet<ArrayBuffer>();
/**
 * Spares kept, at most: enough for two pages a reader at 300 ms (16 readers) of the sandbox's
 * ~1 MB pages, and a bound on what they hold, should the server send far larger export pages.
 */
const sparesKept = 32;
const spareBytesKept = 64 * 1024 * 1024;
let spareBytes = 0;

/** A buffer of at least `bytes` bytes: a spare when one is large enough, else a new one. */
export function takePageBuffer(bytes: number): Uint8Array {
  for (let i = spares.length - 1; i >= 0; i--) {
    const spare = spares[i]!;
    if (spare.byteLength >= bytes) {
      spares.splice(i, 1);
      spareBytes -= spare.byteLength;
      taken.add(spare);
      return new Uint8Array(spare);
    }
  }
  // Rounded up to whole MB, so a slightly larger page later still fits a spare.
  const fresh = Buffer.allocUnsafeSlow(Math.ceil(bytes / (1024 * 1024)) * 1024 * 1024).buffer;
  taken.add(fresh);
  return new Uint8Array(fresh);
}

/**
 * Gives `view`'s buffer back to the spares (when it came from `takePageBuffer` and is kept),
 * detaching it from `view` and every other view of it.
 */
export function releasePageBuffer(view: Uint8Array): void {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached || !taken.has(buffer)) return;
  taken.delete(buffer);
  const moved = buffer.transfer();
  if (spares.length < sparesKept && spareBytes + moved.byteLength <= spareBytesKept) {
    spares.push(moved);
    spareBytes += moved.byteLength;
  }
}
