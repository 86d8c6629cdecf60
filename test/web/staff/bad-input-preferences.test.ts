import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The preferences form of test/helpers/staff-forms.ts, hit with the whole corpus.
staffCorpusTests('preferences')
