/**
 * Node built-ins that only some checks use, loaded on first use instead of at start-up:
 * `node:tls` (with crypto) alone costs about 30 ms of a run's start, zlib and dgram a few more,
 * and a run of tcp checks needs none of them. `process.getBuiltinModule` loads them
 * synchronously, so the code that uses them stays as it was.
 */
export const nodeTls = () => process.getBuiltinModule('node:tls');
export const nodeCrypto = () => process.getBuiltinModule('node:crypto');
export const nodeZlib = () => process.getBuiltinModule('node:zlib');
export const nodeDgram = () => process.getBuiltinModule('node:dgram');
export const nodeDns = () => process.getBuiltinModule('node:dns');
export const nodeOs = () => process.getBuiltinModule('node:os');
