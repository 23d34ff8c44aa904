/**
 * Runs a sandbox in its own process for bench/client.ts, so that the sandbox's CPU work (it renders
 * every record and scans whole streams for filtered lists) does not stall the client's event loop
 * and distort the timing of its rate limiter. Talks to the parent over the fork IPC channel.
 */
import { type Sandbox, type SandboxOptions, startSandbox } from '../src/sandbox/index.js';

let sandbox: Sandbox | undefined;

type Message =
  | { cmd: 'start'; options: SandboxOptions }
  | { cmd: 'stats' }
  | { cmd: 'usage' }
  | { cmd: 'close' };

process.on('message', async (message: Message) => {
  if (message.cmd === 'start') {
    sandbox = await startSandbox(message.options);
    process.send?.({ url: sandbox.url, appKey: sandbox.appKey, tenants: sandbox.tenants });
  } else if (message.cmd === 'stats') {
    process.send?.(sandbox?.stats());
  } else if (message.cmd === 'usage') {
    // maxRSS is in KiB: the peak of the whole process so far, which a sampler could miss.
    process.send?.({ cpu: process.cpuUsage(), maxRssBytes: process.resourceUsage().maxRSS * 1024 });
  } else {
    await sandbox?.close();
    process.send?.({ closed: true }, () => process.disconnect());
  }
});
