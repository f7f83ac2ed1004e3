/**
 * Loaded into the tslab kernel process by TslabKernel (`node --require
 * kernel_agent.js tslab kernel ...`) and spoken to over Node's IPC channel, so
 * that the lesson runner can ask the kernel for what a cell left behind
 * without sending it another cell (tslab type-checks every cell it is sent
 * against the whole program: a probe cell cost as much as a short lesson cell).
 *
 * One request, `{ id, type: 'memory' }`: the agent calls the hook hyperlab
 * installs when a notebook imports it (lib/engine/autofree.ts: frees what the
 * notebook can no longer reach, then reads tf.memory()) and answers `{ id,
 * memory }`, with memory null while the notebook has not loaded hyperlab.
 * Nothing runs in the notebook's namespace; outside the runner (Jupyter starts
 * tslab itself) this file is not loaded. It also tells hyperlab that the runner
 * collects after every cell (`runnerCollects`), so that hyperlab does not run
 * its own idle collection just before.
 */
interface Request {
  id: number;
  type: string;
}

type MemoryHook = () => Promise<{ numTensors: number; numBytes: number }>;

if (process.send) {
  // The runner reads the memory (which collects) after every cell: hyperlab skips its own
  // collection when the kernel goes idle, which would be a second full GC (autofree.ts).
  const hook = ((globalThis as { __hyperlab__?: Record<string, unknown> }).__hyperlab__ ??= {});
  hook.runnerCollects = true;
  process.on('message', (msg: Request) => {
    if (msg?.type !== 'memory') return;
    const hook = (globalThis as { __hyperlab__?: { memory?: MemoryHook } }).__hyperlab__?.memory;
    const answer = (memory: unknown, error?: string) => process.send?.({ id: msg.id, memory, error });
    if (!hook) return answer(null);
    hook().then(
      (m) => answer({ numTensors: m.numTensors, numBytes: m.numBytes }),
      (e: Error) => answer(null, String(e?.message ?? e)),
    );
  });
  // The channel alone must not keep a kernel alive whose sockets are closed.
  process.channel?.unref();
}
