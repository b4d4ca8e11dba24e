/**
 * The byte pipe an emulator talks through: the device end of a PTY pair in
 * the simulator, an in-memory pair in unit tests. It knows nothing about
 * frames; emulators encode and decode on top of it.
 */
export interface ByteLink {
  /** Queue bytes for the host to read. Never throws for a closed link; the link logs instead. */
  write(bytes: Uint8Array): void;
  /** Call `cb` with every chunk the host writes, in order and as it arrives (chunks are not frames). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Remove a callback given to `onData`; optional so a bare `{ write, onData }` object is a link too. */
  offData?(cb: (bytes: Uint8Array) => void): void;
}
