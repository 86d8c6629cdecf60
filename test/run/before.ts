import { clearSkipRecords } from '../helpers/programs.js'
import { prepareTemplate } from '../helpers/template-database.js'

// Run by tap before the test files (package.json "tap.before"): a fresh list of skips, and
// the migrated database the tests copy instead of each running every migration.
clearSkipRecords()
await prepareTemplate()
