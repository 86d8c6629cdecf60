import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'data/**'] }),
  {
    rules: {
      // `void promise` marks a deliberate fire-and-forget (timers, signal handlers).
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
