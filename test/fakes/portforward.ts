// A stand-in for one client-node PortForward WebSocket: the "Pod" is a TCP server on loopback, so the bytes a
// tunnel (src/kube/tunnel.ts) carries really reach a server. Returns the ForwardSocket the tunnel closes.
import { EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ForwardSocket } from '../../src/kube/tunnel.js';

/** Connects `input` → 127.0.0.1:`port` → `output`; `close()` ends the connection, which emits `close`. */
export async function forwardToLoopback(port: number, output: Writable, input: Readable): Promise<ForwardSocket> {
  const upstream = connect(port, '127.0.0.1');
  await once(upstream, 'connect');
  input.pipe(upstream);
  upstream.pipe(output);
  const ws = Object.assign(new EventEmitter(), { close: () => upstream.end() });
  upstream.on('close', () => ws.emit('close'));
  return ws as unknown as ForwardSocket;
}
