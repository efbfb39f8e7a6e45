// Things to undo however the bench ends: normal end, an error, Ctrl-C (SIGINT/SIGTERM).
// Synchronous hooks (kill a child process) also run on process 'exit'.

type SyncHook = () => void;
const hooks = new Set<SyncHook>();
let installed = false;

function runAll(): void {
  for (const h of [...hooks].reverse()) {
    try {
      h();
    } catch {
      // best effort
    }
  }
  hooks.clear();
}

/** Registers a synchronous cleanup (e.g. kill a child); returns a function that unregisters it. */
export function onExit(hook: SyncHook): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}, stopping\n`);
        runAll();
        process.exit(130);
      });
    }
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}
