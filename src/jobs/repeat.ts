/**
 * Runs `pass` every `intervalMs`, counted from the end of the previous pass, until stopped:
 * passes never overlap, and a failed pass is reported and the next one comes as usual. The
 * background jobs (outbox, IMAP, trash) share this loop; each keeps its own pass.
 */
export function repeatEvery (intervalMs: number, pass: () => Promise<unknown>, onError: (err: unknown) => void) {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let running: Promise<unknown> = Promise.resolve()

  function schedule (): void {
    if (stopped) return
    timer = setTimeout(() => {
      running = pass().catch(onError)
      void running.finally(schedule)
    }, intervalMs)
    timer.unref()
  }

  return {
    start: schedule,
    /** True once stop() was called: a pass checks it between items to end early. */
    get stopped (): boolean { return stopped },
    /** No further pass starts; resolves when the pass under way, if any, has ended. */
    async stop (): Promise<void> {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    }
  }
}
