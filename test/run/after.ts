import { skipSummary } from '../helpers/programs.js'

// Run by tap after every test file (package.json "tap.after"): what did not run, and why.
const lines = skipSummary()
if (lines.length > 0) console.log(['', ...lines].join('\n'))
