import { clearSkipRecords } from '../helpers/programs.js'

// Run by tap before the test files (package.json "tap.before"): a fresh list of skips.
clearSkipRecords()
